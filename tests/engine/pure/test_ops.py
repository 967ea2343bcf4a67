"""sin, cos, sqrt, abs, softplus, maximum and minimum without torch (runs under PyPy too):
closed-form derivatives, sqrt's errors, the ties of maximum and minimum.

The oracles are the textbook derivatives written out here. Every op against PyTorch
float64: tests/engine/test_ops.py.
"""

import math

import pytest

from autograd_core import Value, grad, maximum, minimum
from tests.helpers import close


@pytest.mark.parametrize("name, f, df, points", [
    ("sin", Value.sin, math.cos, [0.0, 1.2, -3.0]),
    ("cos", Value.cos, lambda x: -math.sin(x), [0.0, 1.2, -3.0]),
    ("sqrt", Value.sqrt, lambda x: 0.5 / math.sqrt(x), [0.01, 2.0, 1e6]),
    ("abs", abs, lambda x: (x > 0) - (x < 0), [-2.0, 0.0, 3.0]),
    ("softplus", Value.softplus, lambda x: 1 / (1 + math.exp(-x)), [-3.0, 0.0, 4.0]),
])
def test_new_unary_ops_have_their_closed_form_derivatives(name, f, df, points):
    for x in points:
        v = Value(x)
        out = f(v)
        out.backward()
        assert close(v.grad, df(x)), (name, x)
        assert out.op == name


def test_sqrt_errors():
    with pytest.raises(ValueError, match="sqrt.*-1.0"):
        Value(-1.0).sqrt()
    with pytest.raises(ValueError, match="sqrt.*infinite at a=0"):
        Value(0.0).sqrt()
    assert Value(0.0, requires_grad=False).sqrt().data == 0.0  # nobody needs d/da


def test_maximum_minimum_and_their_ties():
    a, b = Value(2.0), Value(3.0)
    assert maximum(a, b).data == 3.0 and minimum(a, b).data == 2.0
    assert grad(maximum(a, b), [a, b]) == [0.0, 1.0]
    assert grad(minimum(a, b), [a, b]) == [1.0, 0.0]
    t = Value(1.0)
    u = Value(1.0)
    assert grad(maximum(t, u), [t, u]) == [0.5, 0.5]   # a subgradient: each gets half
    assert grad(minimum(t, u), [t, u]) == [0.5, 0.5]
    assert grad(maximum(t, 0.0), [t]) == [1.0] and maximum(0.5, t).data == 1.0
