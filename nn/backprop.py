"""Backpropagation at the level of neurons, as the seed article writes it.

The scalar engine differentiates one node at a time; the textbook does it one neuron at
a time, with each neuron's error delta_j = dC/dnet_j:

    output neuron:   delta_o = dC/da * f'(net_o)           (quadratic cost: (a - y) f'(net))
    hidden neuron:   delta_j = f'(net_j) * sum_l w_jl delta_l
    every weight:    dC/dw_ij = o_i * delta_j,   dC/db_j = delta_j

`neuron_backward(model, x, target, loss)` runs those rules on one example, in plain
floats, from the forward values and the weights; the slope f' is the activation's own
local derivative from the op table (`autograd_core.ops`). It also runs the scalar
engine on the same example and checks that every delta equals the gradient that
reached the neuron's net input node, and every dC/dw the parameter's `.grad`; a
disagreement raises `EngineMismatch` (a bug, never a teaching point). The result keeps
every number, and one step per delta and per gradient, each with its equation and the
numbers in it.

Losses (`LOSSES`, rows of the one table nn/loss_table.py, each with its output rule,
`output_delta`):
    "sse"              C = 1/2 sum (y - a)^2 (nn.sse_loss): delta = (a - y) * f'(net)
    "sigmoid_bce"      sigmoid outputs, C = sum of binary cross-entropies:  delta = a - y
    "bce"              linear outputs z, sigmoid folded into the loss (bce_with_logits,
                       also spelled so):  delta = sigmoid(z) - y
    "ce"               linear outputs z, softmax + cross-entropy (nn.cross_entropy, also
                       spelled "cross_entropy"; target a class index):  delta = p - onehot
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from autograd_core import Value
from autograd_core.ops import evaluate, op_info, rename
from autograd_core.vocabulary import backend

from .layers import MLP, Neuron
from .loss_table import NEURON_LOSSES, OutputNeuron, loss_named

__all__ = ["neuron_backward", "NetworkBackward", "NeuronStep", "EngineMismatch", "LOSSES",
           "activation_slope"]

LOSSES = NEURON_LOSSES


# The op table's formulas name a neuron's net input `a` and its output `out`.
_OPERAND_NAME = {"a": "net", "out": "out"}


class EngineMismatch(AssertionError):
    """A neuron-level number disagrees with the scalar engine's: a bug, not a lesson."""


def activation_slope(activation, net, out):
    """(f'(net), its formula): the local derivative the op table gives the activation,
    evaluated at this neuron's net input (`a`) and output (`out`)."""
    if activation == "linear":
        return 1.0, "1"
    formula = op_info(activation).derivatives[0]
    names = dict(backend("floats"), a=net, out=out)
    return float(evaluate(formula, names)), formula


@dataclass(frozen=True)
class NeuronStep:
    """One line of the neuron-level backward pass.

    `what` is the quantity ("delta_o1", "dC/dw5"), `rule` its equation in symbols,
    `numbers` the same equation with the numbers put in (at neuron_backward's digits;
    `numbers_at(digits)` for others), `value` its result by that rule and `engine` the
    same quantity from the scalar engine. `kind` is "delta", "weight" or "bias";
    `layer` (1 = first hidden layer) and `neuron` (from 0) say where.
    """
    kind: str
    layer: int
    neuron: int
    what: str
    rule: str
    numbers: str
    value: float
    engine: float
    template: str = ""      # numbers with a {} for each of the factors
    factors: tuple = ()

    def numbers_at(self, digits):
        return self.template.format(*(f"{x:.{digits}f}" for x in self.factors))

    def line(self, digits=4):
        """'what = rule = numbers = value', the numbers on a second line when long."""
        rule, _, note = self.rule.partition("      [")
        note = f"   [{note}" if note else ""
        numbers = f"{self.numbers_at(digits)} = " if self.template else ""
        value = f"{numbers}{self.value:.{digits}f}"
        if len(self.what) + len(rule) + len(value) + len(note) + 6 <= 100:
            return f"{self.what} = {rule} = {value}{note}"
        return f"{self.what} = {rule}{note}\n    = {value}"


@dataclass
class NetworkBackward:
    """Everything the neuron-level backward pass computed, by layer.

    `cost` is the cost's value; `cost_terms` one term per output for the summed costs
    (sse, sigmoid_bce, bce), None for ce. `loss` is the table's name for the loss given.
    Layer 0 is the input: `names[0]` and `outs[0]` are the inputs' names and values.
    For layers l >= 1: `nets[l][j]`, `outs[l][j]`, `deltas[l][j]`, `weight_grads[l][j][i]`
    (dC/dw from input i of the layer to its neuron j) and `bias_grads[l][j]`;
    index 0 of nets, deltas and the gradients is None.
    """
    loss: str
    cost: float
    names: list
    nets: list
    outs: list
    deltas: list
    weight_grads: list
    bias_grads: list
    weight_labels: list
    cost_terms: list | None = None
    steps: list = field(default_factory=list)

    def lines(self, digits=4, weights=True, biases=True):
        """The steps as text: the deltas of each layer (output layer first), each
        layer's followed by its dC/dw when `weights` and dC/db when `biases`."""
        shown = {"delta", "weight" if weights else "delta", "bias" if biases else "delta"}
        return [s.line(digits) for s in self.steps if s.kind in shown]


def _check_target(model, spec, target):
    n_out = len(model.layers[-1].neurons)
    if spec.class_index:
        if isinstance(target, bool) or not isinstance(target, int):
            raise TypeError(f"neuron_backward: with loss {spec.name!r} the target is the "
                            f"class index (an int), got {target!r}")
        if not 0 <= target < n_out:
            raise ValueError(f"neuron_backward: target class {target} is out of range for "
                             f"{n_out} outputs; use 0..{n_out - 1}")
        return target
    targets = [target] if isinstance(target, (int, float, Value)) else list(target)
    if len(targets) != n_out:
        raise ValueError(f"neuron_backward: the network has {n_out} outputs but {len(targets)} "
                         "targets were given; give one target per output")
    out = []
    for t in targets:
        t = t.data if isinstance(t, Value) else t
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
            raise TypeError(f"neuron_backward: targets must be finite numbers, got {t!r}")
        out.append(float(t))
    return out


def _close(a, b):
    return abs(a - b) <= 1e-12 + 1e-9 * abs(b)


def neuron_backward(model, x, target, loss="sse", digits=4, cost_symbol="C"):
    """The backward pass of `model` (an nn.MLP) on the input `x`, neuron by neuron.

    `target`: one number per output (a single number for one output), or the class
    index for loss "ce" ("cross_entropy"). Returns a NetworkBackward. The model's parameter
    grads are left as they were. Raises EngineMismatch if any number disagrees with the
    scalar engine, ValueError / TypeError for a loss, target or network it cannot use.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"neuron_backward needs an nn.MLP, got {type(model).__name__}")
    spec = loss_named(loss) if loss in LOSSES else None
    if spec is None:
        raise ValueError(f"neuron_backward: unknown loss {loss!r}; use one of: "
                         f"{', '.join(LOSSES)}")
    loss = spec.name
    out_activation = model.layers[-1].neurons[0].activation
    wanted = spec.reads
    if wanted is not None and out_activation != wanted:
        raise ValueError(f"neuron_backward: loss {loss!r} needs {wanted} output neurons, but "
                         f"this network's are {out_activation}; build it with "
                         f"output_activation={wanted!r} or use loss 'sse'")
    target = _check_target(model, spec, target)
    C = cost_symbol

    # --- the scalar engine: forward, cost, backward (the parameters' grads restored after)
    layers = model.forward(x)
    params = model.parameters()
    saved = [p.grad for p in params]
    try:
        for p in params:
            p.grad = 0.0
        cost = spec.cost(layers[-1], target)  # the table's, from nn.losses
        cost.backward()
        engine_delta = [None] + [[Neuron.net_of(o).grad for o in outs] for outs in layers[1:]]
        engine_out_grad = [None] + [[o.grad for o in outs] for outs in layers[1:]]
        engine_w = [None] + [[[w.grad for w in n.w] for n in layer.neurons]
                             for layer in model.layers]
        engine_b = [None] + [[n.b.grad for n in layer.neurons] for layer in model.layers]
    finally:
        for p, g in zip(params, saved):
            p.grad = g

    names = [model.input_names] + [[n.name or f"n{j + 1}" for j, n in enumerate(layer.neurons)]
                                   for layer in model.layers]
    outs = [[v.data for v in vs] for vs in layers]
    nets = [None] + [[Neuron.net_of(v).data for v in vs] for vs in layers[1:]]
    L = len(model.layers)
    deltas = [None] * (L + 1)
    weight_grads, bias_grads = [None] * (L + 1), [None] * (L + 1)
    result = NetworkBackward(loss, cost.data, names, nets, outs, deltas, weight_grads,
                             bias_grads, [None] + [[[w.label for w in n.w] for n in layer.neurons]
                                                   for layer in model.layers])
    if not spec.class_index:  # a summed cost: one term per output
        result.cost_terms = [term.data for term in cost.parents]
    steps = result.steps

    def step(kind, layer, j, what, rule, numbers, value, engine):
        if not _close(value, engine):
            raise EngineMismatch(f"{what}: the delta rule gives {value!r} but the engine "
                                 f"computed {engine!r}")
        template, factors = numbers
        shown = template.format(*(f"{x:.{digits}f}" for x in factors))
        steps.append(NeuronStep(kind, layer, j, what, rule, shown, value, engine, template,
                                factors))

    def input_name(layer, i):
        return names[0][i] if layer == 1 else f"out_{names[layer - 1][i]}"

    for l in range(L, 0, -1):
        neurons = model.layers[l - 1].neurons
        deltas[l] = []
        for j, neuron in enumerate(neurons):
            name, net, a = names[l][j], nets[l][j], outs[l][j]
            slope, formula = activation_slope(neuron.activation, net, a)
            formula = rename(formula, {k: f"{v}_{name}" for k, v in _OPERAND_NAME.items()})
            symbol = ("f" if neuron.activation == "linear"
                      else op_info(neuron.activation).symbol) + f"'(net_{name})"
            if l < L:  # hidden: the errors of the neurons it feeds, weighted
                after = model.layers[l].neurons
                terms = [(n.w[j], deltas[l + 1][k]) for k, n in enumerate(after)]
                error = math.fsum(w.data * d for w, d in terms)
                if not _close(error, engine_out_grad[l][j]):
                    raise EngineMismatch(f"dC/dout_{name}: sum_l w_jl delta_l gives {error!r} "
                                         f"but the engine computed {engine_out_grad[l][j]!r}")
                delta = slope * error
                rule = (f"{symbol} * (" + " + ".join(
                    f"{w.label} * delta_{names[l + 1][k]}" for k, (w, _) in enumerate(terms))
                    + ")")
                numbers = ("{} * (" + " + ".join("{} * {}" for _ in terms) + ") = {} * {}",
                           (slope, *[x for w, d in terms for x in (w.data, d)], slope, error))
            else:
                delta, rule, numbers = spec.output_delta(
                    OutputNeuron(j, name, net, a, slope, symbol, outs[L]), target)
            if symbol in rule and neuron.activation != "linear":  # a rule with f' in it shows f'
                rule += f"      [{symbol} = {formula}]"
            deltas[l].append(delta)
            step("delta", l, j, f"delta_{name}", rule, numbers, delta, engine_delta[l][j])
        # This layer's weights: dC/dw_ij = o_i * delta_j, dC/db_j = delta_j.
        weight_grads[l], bias_grads[l] = [], []
        for j, neuron in enumerate(neurons):
            row = []
            for i, w in enumerate(neuron.w):
                o_i, g = outs[l - 1][i], outs[l - 1][i] * deltas[l][j]
                row.append(g)
                step("weight", l, j, f"d{C}/d{w.label}",
                     f"{input_name(l, i)} * delta_{names[l][j]}",
                     ("{} * {}", (o_i, deltas[l][j])), g, engine_w[l][j][i])
            weight_grads[l].append(row)
            bias_grads[l].append(deltas[l][j])
            step("bias", l, j, f"d{C}/d{neuron.b.label}", f"delta_{names[l][j]}", ("", ()),
                 deltas[l][j], engine_b[l][j])
    return result
