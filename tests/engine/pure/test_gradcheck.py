"""Hand derivations checked (runs under PyPy too): gradcheck(expected=...) and
autograd_core.testing's assert_grad and assert_derivative catch a wrong derivative and
name the input and the chain-rule step.

The oracles are the sigmoid neuron's derivatives worked out by hand.
"""

import math

import pytest

from autograd_core import gradcheck


def test_gradcheck_catches_a_wrong_hand_derivation():
    f = lambda v: (v[0] * v[1] + v[2]).sigmoid()  # noqa: E731
    s = 1 / (1 + math.exp(-(0.5 * 2.0 - 1.0)))
    right = [s * (1 - s) * 2.0, s * (1 - s) * 0.5, s * (1 - s)]
    gradcheck(f, [0.5, 2.0, -1.0], expected=right)
    gradcheck(f, [0.5, 2.0, -1.0], expected=lambda w, x, b: right)
    wrong = [2 * right[0]] + right[1:]
    with pytest.raises(AssertionError, match=r"input 0 \(x0=0.5\): engine 0.5, hand-derived 1.0"):
        gradcheck(f, [0.5, 2.0, -1.0], expected=wrong)


def test_assert_grad_and_assert_derivative():
    from autograd_core.testing import assert_derivative, assert_grad
    f = lambda v: (v[0] * v[1] + v[2]).sigmoid()  # noqa: E731
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    assert_grad(f, [0.5, 2.0, -1.0], [0.5, 0.125, 0.25])
    with pytest.raises(AssertionError, match="input 1"):
        assert_grad(f, [0.5, 2.0, -1.0], [0.5, 0.25, 0.25])
    assert_derivative(f, 0, lambda w, x, b: sig(w * x + b) * (1 - sig(w * x + b)) * x)
    with pytest.raises(AssertionError) as info:
        assert_derivative(f, 0, lambda w, x, b: sig(w * x + b) * (1 - sig(w * x + b)) * w)
    message = str(info.value)
    assert "engine" in message and "claimed" in message and "step 1" in message
    assert "L * (1 - L)" in message  # the sigmoid's factor, in the nodes' names
    # a domain: log(x) is tried only where it is defined
    assert_derivative(lambda v: v[0].log(), 0, lambda x: 1 / x)
