"""micrograd's spelling over chainrule's engine: change only the import line.

    from micrograd.engine import Value          ->  from autograd_core.micrograd import Value
    from micrograd.nn import Neuron, Layer, MLP ->  from autograd_core.micrograd import Neuron, Layer, MLP

`Value(data)`, `._prev`, `._op`, `.data`, `.grad`, `+ - * / **`, `relu() tanh() exp()`,
`backward()`; `Neuron(nin, nonlin=True)`, `Layer(nin, nout)`, `MLP(nin, nouts)` (ReLU
hidden layers, a linear output), `zero_grad()`, `parameters()`. The graphs are
chainrule's, so its pictures, step-through and compile() work on them. As in
micrograd, a plain number in an operation becomes a Value of its own (with a grad).
micrograd's internal way of making an op (a node built with `_children` and a
`_backward` closure) is not supported: declare the op with `autograd_core.declare`.
"""

from __future__ import annotations

import random

from . import engine as _engine
from .engine import weighted_sum
from .ops import OPS

__all__ = ["Value", "Module", "Neuron", "Layer", "MLP"]

_MICROGRAD_OP_NAMES = {"relu": "ReLU"}


class Value(_engine.Value):
    """micrograd's Value: Value(data, _children=(), _op='')."""

    __slots__ = ()

    def __new__(cls, data, _children=(), _op="", label=""):
        if _children:
            raise TypeError("autograd_core.micrograd: nodes are made by operations, not "
                            "by hand with _children; to add an operation with its "
                            "derivative use autograd_core.declare (see docs/engine.md)")
        node = _engine.Value.__new__(cls, data, label=label)
        if _op:
            node.op = _op
        return node

    @property
    def _prev(self):
        return set(self.parents)

    @property
    def _op(self):
        return _MICROGRAD_OP_NAMES.get(self.op, self.op)

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"


def _micro(x):
    """A number becomes a micrograd Value (a variable, as in micrograd)."""
    return x if isinstance(x, _engine.Value) else Value(x)


def _as_micro(out):
    if type(out) is _engine.Value:
        out.__class__ = Value
    return out


def _wrap(method, reflected=False):
    def operation(self, *others):
        return _as_micro(method(self, *map(_micro, others)))
    operation.__name__ = method.__name__
    return operation


for _info in OPS.values():
    for _name in (_info.method, _info.reflected):
        # (a row's parameter, the n of **n, is a plain number: nothing to make a Value of)
        if _name and not _info.nary and not _info.parameter and hasattr(_engine.Value, _name):
            setattr(Value, _name, _wrap(getattr(_engine.Value, _name)))


def __pow__(self, other):
    """micrograd's power: the exponent is a plain number (the op **n)."""
    return _as_micro(self._pow_constant(_engine._check_data(other, "** exponent")))


Value.__pow__ = __pow__
Value.__sub__ = lambda self, other: self + (-_micro(other))   # micrograd's own spelling
Value.__rsub__ = lambda self, other: _micro(other) + (-self)


class Module:

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0

    def parameters(self):
        return []


class Neuron(Module):

    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = _as_micro(weighted_sum(self.w, [_micro(xi) for xi in x], self.b))
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):

    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):

    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
