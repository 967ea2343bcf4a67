"""Constants (runs under PyPy too): a plain number in an expression, Value(x,
requires_grad=False) and the numbers of a parsed expression get no gradient and no
chain-rule step; results made only of constants are constants.

The oracles are the gradients worked out by hand, and PyTorch's convention that a
constant is never differentiated (0 ** y at 0 < y < 1 is fine).
"""

import math

import pytest

from autograd_core import Value, grad, topological_order, trace_backward


def test_a_plain_number_is_a_constant_with_no_gradient_and_no_step():
    x = Value(3.0, label="x")
    out = x * 2.0 + 1.0
    steps = list(trace_backward(out))
    constants = [v for v in topological_order(out) if not v.parents and v is not x]
    assert sorted(c.data for c in constants) == [1.0, 2.0]
    assert all(not c.requires_grad and c.grad == 0.0 for c in constants)
    assert all(s.parent.requires_grad for s in steps) and len(steps) == 2
    assert x.grad == 2.0


def test_explicit_constant_and_constant_results():
    c = Value(4.0, requires_grad=False)
    x = Value(2.0)
    assert x.requires_grad and not c.requires_grad
    both = c * c
    assert not both.requires_grad
    out = x * c + both
    out.backward()
    assert x.grad == 4.0 and c.grad == 0.0 and both.grad == 0.0
    assert grad(out, [x, c]) == [4.0, 0.0]
    with pytest.raises(AttributeError):
        x.requires_grad = False  # fixed when made: Value(x, requires_grad=False)


def test_zero_to_a_value_power_between_0_and_1_is_fine_like_pytorch():
    y = Value(0.5)
    out = 0.0 ** y
    out.backward()
    assert out.data == 0.0 and y.grad == 0.0


def test_numbers_in_expressions_are_constants():
    from autograd_core import expr
    root, leaves = expr.build(expr.parse("3*x + pi"), {"x": 2.0})
    root.backward()
    constants = [v for v in topological_order(root) if not v.parents and v is not leaves["x"]]
    assert sorted(c.data for c in constants) == [3.0, math.pi]
    assert all(not c.requires_grad and c.grad == 0.0 for c in constants)
