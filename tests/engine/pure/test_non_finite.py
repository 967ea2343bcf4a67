"""Non-finite gradients (issue 13; runs under PyPy too): a dead ReLU branch gives 0, not
nan; an infinite gradient is an error naming the chain-rule step, in backward(), grad(),
trace_backward() and compiled code alike, with nothing half-written; a finite answer
whose unneeded derivative would overflow is still given.

The oracles are the exact values (0.0, the overflowing products) worked out by hand.
"""

import math

import pytest

from autograd_core import NonFiniteGradientError, Value, compile, grad, trace_backward


def test_a_dead_relu_branch_is_zero_not_nan():
    x = Value(-1.0, label="x")
    L = (x.relu() * 1e200 + 1) * 1e200
    L.backward()
    assert x.grad == 0.0
    assert grad(L, [x]) == [0.0]
    assert [s.contribution for s in trace_backward(L)][-1] == 0.0
    f = compile(L, [x])
    assert f([-1.0]) == (1e200, [0.0])


def test_an_infinite_gradient_is_an_error_naming_the_step():
    x = Value(0.0, label="x")
    L = x * 1e308 * 10
    x.grad = 0.25
    with pytest.raises(NonFiniteGradientError) as info:
        L.backward()
    message = str(info.value)
    assert "gradient of 'x'" in message and "step 2" in message and "1e+308" in message
    assert "\n" not in message
    assert x.grad == 0.25  # nothing half-written
    with pytest.raises(OverflowError, match="step 2"):
        grad(L, [x])
    with pytest.raises(OverflowError, match="step 2"):
        list(trace_backward(L))
    with pytest.raises(OverflowError, match="gradient of 'x'.*step 2"):
        compile(L, [x])([0.0])


def test_finite_answers_whose_unneeded_derivative_overflows():
    q = Value(0.5) / -6.1e-301
    assert q.data == 0.5 / -6.1e-301
    p = Value(5e-324) ** Value(0.0)
    p.backward()
    assert p.data == 1.0 and p.parents[0].grad == 0.0
    assert p.parents[1].grad == math.log(5e-324)
