"""Neuron, Layer and MLP: the network as a tree of modules that own their parameters."""

from __future__ import annotations

import math
import random

from autograd_core import Value, weighted_sum

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATIONS"]

# What each activation name calls on a neuron's net input.
ACTIVATIONS = {
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
    "linear": None,
}


def _check_activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; use one of: {', '.join(ACTIVATIONS)}")
    return name


def _check_size(n, what):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return n


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
        from .serialize import save_model
        save_model(self, path)

    @classmethod
    def load(cls, path):
        """A NEW model read from `path` (`model.load(p)` too leaves `model` unchanged).

        `MLP.load(path)` insists that the file holds an MLP (likewise Layer, Neuron);
        `Module.load(path)` returns whatever kind the file holds. A missing file raises
        FileNotFoundError, any other bad file `nn.ModelFileError`; both name the file.
        """
        from .serialize import load_model
        return load_model(path, expected=None if cls is Module else cls)


class Neuron(Module):
    """activation(w . x + b), its net input one `wsum` node."""

    def __init__(self, nin, activation="sigmoid", seed=None):
        _check_size(nin, "Neuron nin")
        self.activation = _check_activation(activation)
        rng = _rng(seed)
        # Uniform with variance 1/nin keeps net inputs near 1 whatever the fan-in.
        limit = math.sqrt(3.0 / nin)
        self.w = [Value(rng.uniform(-limit, limit), label=f"w{i + 1}") for i in range(nin)]
        self.b = Value(0.0, label="b")

    def __call__(self, x):
        if len(x) != len(self.w):
            raise ValueError(f"Neuron expects {len(self.w)} inputs, got {len(x)}")
        net = weighted_sum(self.w, x, self.b)
        activate = ACTIVATIONS[self.activation]
        return net if activate is None else activate(net)

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """nout neurons that all see the same inputs; calling it returns a list."""

    def __init__(self, nin, nout, activation="sigmoid", seed=None):
        _check_size(nin, "Layer nin")
        _check_size(nout, "Layer nout")
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, seed=rng) for _ in range(nout)]

    def __call__(self, x):
        return [neuron(x) for neuron in self.neurons]

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self):
        n = self.neurons[0]
        return f"Layer({len(n.w)}, {len(self.neurons)}, activation={n.activation!r})"


class MLP(Module):
    """Layers in sequence. Parameters are labelled L<layer>.n<neuron>.w<i> / .b."""

    def __init__(self, nin, nouts, activation="sigmoid", output_activation=None, seed=None):
        _check_size(nin, "MLP nin")
        if isinstance(nouts, int) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of layer sizes, got {nouts!r}")
        for n in nouts:
            _check_size(n, "each MLP layer size")
        _check_activation(activation)
        output_activation = activation if output_activation is None else output_activation
        _check_activation(output_activation)
        rng = _rng(seed)
        sizes = [nin] + list(nouts)
        self.layers = [
            Layer(sizes[i], sizes[i + 1],
                  output_activation if i == len(nouts) - 1 else activation, seed=rng)
            for i in range(len(nouts))
        ]
        for li, layer in enumerate(self.layers, 1):
            for ni, neuron in enumerate(layer.neurons, 1):
                for wi, w in enumerate(neuron.w, 1):
                    w.label = f"L{li}.n{ni}.w{wi}"
                neuron.b.label = f"L{li}.n{ni}.b"

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(self.layers[-1].neurons) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        sizes = [len(self.layers[0].neurons[0].w)] + [len(l.neurons) for l in self.layers]
        return f"MLP({sizes[0]}, {sizes[1:]})"
