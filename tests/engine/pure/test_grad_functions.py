"""Derivatives as functions without torch (runs under PyPy too): grad() leaves .grad alone,
nested differentiation, derivatives of any order, hessian() and a Newton step, an input
the output does not depend on; forward_grad() and jacobian() in forward and reverse mode,
with their costs counted (OpCount).

The oracles are closed-form derivatives written out here and reverse mode itself.
The same functions against PyTorch float64: tests/engine/test_grad_functions.py.
"""

import math

import autograd_core as ac
from autograd_core import OpCount, Value, forward_grad, grad, hessian, maximum
from tests.helpers import close


# ------------------------------------------------------------ gradients as functions

def test_grad_touches_no_grad_and_matches_backward():
    x, y = Value(0.3), Value(-1.1)
    out = (x * y).tanh() + y.exp() * x
    g = grad(out, [x, y])
    assert x.grad == 0.0 and y.grad == 0.0
    out.backward()
    assert g == [x.grad, y.grad]


def test_nested_differentiation_is_right():
    """d/dx [x * d/dy (x + y)] = 1 at x = 1 (backward() inside gave 2)."""
    x, y = Value(1.0), Value(2.0)
    inner = grad(x + y, [y], create_graph=True)[0]
    outer = x * inner
    assert grad(outer, [x]) == [1.0]
    # the same with a variable the inner derivative depends on: d/dx [x * d/dy (x*y)] = 2x
    inner = grad(x * y, [y], create_graph=True)[0]
    assert grad(x * inner, [x]) == [2.0]


def test_derivatives_of_any_order():
    x = Value(0.7)
    d = x ** 3
    values = []
    for _ in range(5):
        d = grad(d, [x], create_graph=True)[0]
        values.append(d.data)
    expected = [3 * 0.7 ** 2, 6 * 0.7, 6.0, 0.0, 0.0]
    assert all(close(v, e) for v, e in zip(values, expected)) and values[3:] == [0.0, 0.0]
    t = math.tanh(0.7)
    d = x.tanh()
    for _ in range(4):
        d = grad(d, [x], create_graph=True)[0]
    # tanh' = 1 - t^2, tanh'' = -2t(1 - t^2), tanh''' = (6t^2 - 2)(1 - t^2),
    # tanh'''' = 8t(1 - t^2)(2 - 3t^2)
    assert close(d.data, 8 * t * (1 - t * t) * (2 - 3 * t * t), rel=1e-9)


def test_hessian_and_a_newton_step():
    f = lambda v: v[0] ** 2 * v[1] + v[1].exp() + v[0] * v[1] ** 3  # noqa: E731
    x0, x1 = 0.4, -0.3
    h = hessian(f, [x0, x1])
    exact = [[2 * x1, 2 * x0 + 3 * x1 ** 2], [2 * x0 + 3 * x1 ** 2, math.exp(x1) + 6 * x0 * x1]]
    for i in range(2):
        for j in range(2):
            assert close(h[i][j], exact[i][j])
    # Newton's method on g(x) = x**4 - 2 from x = 1.5: one step by hand and by grad
    x = Value(1.5)
    g = x ** 4 - 2
    step = g.data / grad(g, [x])[0]
    assert close(1.5 - step, 1.5 - (1.5 ** 4 - 2) / (4 * 1.5 ** 3))


def test_an_input_the_output_does_not_depend_on_gets_zero():
    x, y = Value(1.0), Value(2.0)
    assert grad(x * 3, [y]) == [0.0]
    z = grad(x * 3, [y], create_graph=True)[0]
    assert z.data == 0.0 and not z.requires_grad and grad(z, [x]) == [0.0]


def test_forward_mode_equals_reverse_mode():
    x, y = Value(0.3), Value(-1.2)
    out = (x * y).sigmoid() + x.sin() * y ** 2 - maximum(x, y)
    assert close(forward_grad(out, x), grad(out, [x])[0], rel=1e-12)
    assert close(forward_grad(out, y), grad(out, [y])[0], rel=1e-12)


def costs():
    """Multiply-adds for a full Jacobian: 2 inputs -> 1 output, 1 input -> 10 outputs."""
    a, b = Value(0.5), Value(-1.5)
    f = ((a * b).tanh() + a.exp()) * b
    x = Value(0.3)
    s = x.sin()
    outs = [s * k + (s * s) for k in range(1, 11)]
    counts = {}
    for name, outputs, inputs in (("2-in 1-out", [f], [a, b]), ("1-in 10-out", outs, [x])):
        for mode in ("forward", "reverse"):
            count = OpCount()
            ac.jacobian(outputs, inputs, mode=mode, count=count)
            counts[name, mode] = (count.multiply_adds, count.sweeps)
    return counts


def test_reverse_mode_wins_for_one_output_and_forward_for_one_input():
    counts = costs()
    assert counts["2-in 1-out", "reverse"][1] == 1 and counts["2-in 1-out", "forward"][1] == 2
    assert counts["1-in 10-out", "forward"][1] == 1 and counts["1-in 10-out", "reverse"][1] == 10
    assert counts["2-in 1-out", "reverse"][0] < counts["2-in 1-out", "forward"][0]
    assert counts["1-in 10-out", "forward"][0] < counts["1-in 10-out", "reverse"][0]
    x = Value(0.3)
    outs = [x.sin() * k for k in range(1, 11)]
    rows = ac.jacobian(outs, [x], mode="forward")
    assert rows == ac.jacobian(outs, [x], mode="reverse")
