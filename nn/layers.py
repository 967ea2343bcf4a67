"""Neuron, Layer and MLP: the network as a tree of modules that own their parameters."""

from __future__ import annotations

import math
import random

from autograd_core import Value, op_info, weighted_sum

from .model_kinds import ACTIVATIONS, check_activation, model_kind
from .serialize import load_model, save_model

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATIONS", "neuron_name"]


def _check_size(n, what):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return n


def _as_values(x, labels=None):
    """The inputs as a tuple of Values: each number becomes one constant (data, no
    gradient) once per sample, not once per neuron that reads it, labelled labels[i]
    when given; Values pass through."""
    if labels is None:
        labels = [""] * len(x)
    return tuple([v if isinstance(v, Value) else Value(v, label=name, requires_grad=False)
                  for v, name in zip(x, labels)])


def _rng(seed):
    """A random.Random from a seed (None: unseeded); a Random passes through."""
    if isinstance(seed, random.Random):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    return random.Random(seed)


class Module:
    """Anything with parameters."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0

    def save(self, path):
        """Write this MLP, Layer or Neuron to `path` as JSON, atomically (nn/serialize.py)."""
        save_model(self, path)

    @classmethod
    def load(cls, path):
        """A NEW model read from `path` (`model.load(p)` too leaves `model` unchanged).

        `MLP.load(path)` insists that the file holds an MLP (likewise Layer, Neuron);
        `Module.load(path)` returns whatever kind the file holds. A missing file raises
        FileNotFoundError, any other bad file `nn.ModelFileError`; both name the file.
        """
        return load_model(path, expected=None if cls is Module else cls)


@model_kind
class Neuron(Module):
    """activation(w . x + b), its net input one `wsum` node.

    `name` (default "", unnamed) labels the neuron's nodes in every graph it builds:
    its output is labelled with the name, its net input name + ".net", and its
    parameters name + ".w1", ... and name + ".b", so pictures and step text say "L1.h2"
    rather than "n17". Setting `neuron.name` relabels the parameters at once.
    """

    def __init__(self, nin, activation="sigmoid", seed=None, name=""):
        _check_size(nin, "Neuron nin")
        self.activation = check_activation(activation)
        rng = _rng(seed)
        # Uniform with variance 1/nin keeps net inputs near 1 whatever the fan-in.
        limit = math.sqrt(3.0 / nin)
        self.w = [Value(rng.uniform(-limit, limit)) for _ in range(nin)]
        self.b = Value(0.0)
        self.name = name

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"a neuron's name must be a str, got {name!r}")
        self._name = name
        prefix = f"{name}." if name else ""
        for i, w in enumerate(self.w, 1):
            w.label = f"{prefix}w{i}"
        self.b.label = f"{prefix}b"
        self._net_label = f"{prefix}net"

    def __call__(self, x):
        if len(x) != len(self.w):
            raise ValueError(f"Neuron expects {len(self.w)} inputs, got {len(x)}")
        return self._fire(_as_values(x))

    def _fire(self, x):
        """The neuron on a tuple of Values as long as self.w (checked by the caller)."""
        activate = ACTIVATIONS[self.activation]
        if activate is None:
            return weighted_sum(tuple(self.w), x, self.b, checked=True, label=self._name)
        out = activate(weighted_sum(tuple(self.w), x, self.b, checked=True,
                                    label=self._net_label))
        out.label = self._name
        return out

    @staticmethod
    def net_of(output):
        """The net input node of an output this neuron computed (itself when linear)."""
        return output if op_info(output.op).nary else output.parents[0]  # else: activation

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        name = f", name={self._name!r}" if self._name else ""
        return f"Neuron({len(self.w)}, activation={self.activation!r}{name})"


@model_kind
class Layer(Module):
    """nout neurons that all see the same inputs; calling it returns a list."""

    def __init__(self, nin, nout, activation="sigmoid", seed=None):
        _check_size(nin, "Layer nin")
        _check_size(nout, "Layer nout")
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, seed=rng) for _ in range(nout)]

    def __call__(self, x):
        x = _as_values(x)
        if len(x) != len(self.neurons[0].w):
            raise ValueError(f"Layer expects {len(self.neurons[0].w)} inputs, got {len(x)}")
        return [neuron._fire(x) for neuron in self.neurons]

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self):
        n = self.neurons[0]
        return f"Layer({len(n.w)}, {len(self.neurons)}, activation={n.activation!r})"


def neuron_name(layer, index, last):
    """The one naming scheme for a network's neurons (layer and index count from 1):
    hidden neurons L<layer>.h<index>, output neurons out<index>."""
    return f"out{index}" if last else f"L{layer}.h{index}"


@model_kind
class MLP(Module):
    """Layers in sequence.

    Neurons are named by `neuron_name` (L1.h2, ..., out1) and inputs x1, x2, ...
    (`input_names`); rename either to label pictures and step text with your own names.
    Parameters are labelled <neuron>.w<i> and <neuron>.b.
    """

    def __init__(self, nin, nouts, activation="sigmoid", output_activation=None, seed=None):
        _check_size(nin, "MLP nin")
        if isinstance(nouts, int) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of layer sizes, got {nouts!r}")
        for n in nouts:
            _check_size(n, "each MLP layer size")
        check_activation(activation)
        output_activation = activation if output_activation is None else output_activation
        check_activation(output_activation)
        rng = _rng(seed)
        sizes = [nin] + list(nouts)
        self.layers = [
            Layer(sizes[i], sizes[i + 1],
                  output_activation if i == len(nouts) - 1 else activation, seed=rng)
            for i in range(len(nouts))
        ]
        for li, layer in enumerate(self.layers, 1):
            for ni, neuron in enumerate(layer.neurons, 1):
                neuron.name = neuron_name(li, ni, li == len(self.layers))
        self.input_names = [f"x{i}" for i in range(1, nin + 1)]

    @property
    def input_names(self):
        return list(self._input_names)

    @input_names.setter
    def input_names(self, names):
        names = list(names)
        nin = len(self.layers[0].neurons[0].w)
        if len(names) != nin or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"input_names must be {nin} non-empty strings, got {names!r}")
        self._input_names = names

    def forward(self, x):
        """Every layer's outputs for one input: [inputs as Values, layer 1, ..., last]."""
        if len(x) != len(self._input_names):
            raise ValueError(f"MLP expects {len(self._input_names)} inputs, got {len(x)}")
        x = _as_values(x, self._input_names)
        outputs = [list(x)]
        for layer in self.layers:
            x = tuple([neuron._fire(x) for neuron in layer.neurons])
            outputs.append(list(x))
        return outputs

    def __call__(self, x):
        x = self.forward(x)[-1]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        sizes = [len(self.layers[0].neurons[0].w)] + [len(l.neurons) for l in self.layers]
        return f"MLP({sizes[0]}, {sizes[1:]})"
