"""Derivatives as functions against PyTorch float64: grad() with create_graph (second and
third derivatives), hessian(), forward_grad() on random expressions over every op, nested
differentiation and a Newton step.

The oracle is torch.autograd in float64 (torch.autograd.grad, .functional.hessian and
.jacobian). The same functions against closed forms, without torch (and under PyPy):
tests/engine/pure/test_grad_functions.py.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_core import (Value, forward_grad, grad, hessian, maximum, minimum, value_sum,
                           weighted_sum)
from tests.helpers import close, tensor, torch_or_skip


class Ours:
    sin, cos, tanh, exp = Value.sin, Value.cos, Value.tanh, Value.exp
    sigmoid, softplus, log, sqrt = Value.sigmoid, Value.softplus, Value.log, Value.sqrt
    maximum, minimum = staticmethod(maximum), staticmethod(minimum)
    abs = staticmethod(abs)
    relu = Value.relu

    @staticmethod
    def weighted_sum(ws, xs, b):
        return weighted_sum(ws, xs, b)

    @staticmethod
    def value_sum(terms):
        return value_sum(terms)


def torch_ops():
    """torch's side of build(), with the names of Ours: made when a test asks for it, as
    torch may be absent."""
    torch = torch_or_skip()
    F = torch.nn.functional

    class Torch:
        sin, cos, tanh, exp = torch.sin, torch.cos, torch.tanh, torch.exp
        sigmoid, softplus, log, sqrt = torch.sigmoid, F.softplus, torch.log, torch.sqrt
        maximum, minimum, abs, relu = torch.maximum, torch.minimum, torch.abs, torch.relu

        @staticmethod
        def weighted_sum(ws, xs, b):
            return sum(w * x for w, x in zip(ws, xs)) + b

        @staticmethod
        def value_sum(terms):
            return sum(terms[1:], terms[0])
    return Torch


def expressions():
    """Trees over every op, each guarded into its domain (log and sqrt see e*e + 0.5,
    a divisor e*e + 0.5, exp sees tanh(e), a Value exponent a positive base)."""
    leaf = st.one_of(st.integers(0, 2).map(lambda i: ("var", i)),
                     st.sampled_from([0.5, -1.25, 2.0]).map(lambda c: ("const", c)))

    def extend(children):
        unary = st.sampled_from(["neg", "sin", "cos", "tanh", "sigmoid", "softplus",
                                 "exp_tanh", "log_pos", "sqrt_pos", "square", "cube",
                                 "pow_half_pos"])
        binary = st.sampled_from(["add", "sub", "mul", "div_pos", "pow_value", "maximum",
                                  "minimum"])
        return st.one_of(st.tuples(unary, children), st.tuples(binary, children, children),
                         st.tuples(st.just("weighted_sum"), st.lists(children, min_size=3, max_size=5)),
                         st.tuples(st.just("value_sum"), st.lists(children, min_size=1, max_size=3)))
    return st.recursive(leaf, extend, max_leaves=8)


def build(e, xs, k):
    kind = e[0]
    if kind == "var":
        return xs[e[1]]
    if kind == "const":
        return e[1]
    if kind in ("weighted_sum", "value_sum"):
        terms = [build(c, xs, k) for c in e[1]]
        if kind == "value_sum":
            return k.value_sum(terms + [0.0 * xs[0]])
        n = (len(terms) - 1) // 2
        return k.weighted_sum(terms[:n], terms[n:2 * n], terms[-1])
    a = build(e[1], xs, k)
    if kind == "neg":
        return -a
    if kind in ("sin", "cos", "tanh", "sigmoid", "softplus"):
        return getattr(k, kind)(a * 1.0 + 0.0 * xs[0])   # a Value/tensor even for a constant
    if kind == "exp_tanh":
        return k.exp(k.tanh(a + 0.0 * xs[0]))
    if kind == "log_pos":
        return k.log(a * a + 0.5 + 0.0 * xs[0])
    if kind == "sqrt_pos":
        return k.sqrt(a * a + 0.5 + 0.0 * xs[0])
    if kind == "square":
        return (a + 0.0 * xs[0]) ** 2
    if kind == "cube":
        return (a + 0.0 * xs[0]) ** 3
    if kind == "pow_half_pos":
        return (a * a + 0.5 + 0.0 * xs[0]) ** 0.5
    b = build(e[2], xs, k)
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        return a * b
    if kind == "div_pos":
        return a / (b * b + 0.5)
    if kind == "pow_value":
        return (a * a + 0.5) ** k.tanh(b + 0.0 * xs[0])
    return getattr(k, kind)(a + 0.0 * xs[0], b + 0.0 * xs[0])


points = st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=3, max_size=3)


def agree(ours, theirs, rel=1e-9):
    return abs(ours - theirs) <= 1e-9 * max(1.0, abs(theirs)) or close(ours, theirs, rel=rel)


def torch_derivatives(e, point, order):
    """[d^order f / dx0^order ... ] along x0, then mixed: torch's answer."""
    torch = torch_or_skip()
    ts = [tensor(x) for x in point]
    out = build(e, ts, torch_ops()) + 0.0 * ts[0]
    results = []
    g = out
    for _ in range(order):
        if not g.requires_grad:
            results.append([0.0, 0.0, 0.0])
            g = torch.zeros((), dtype=torch.float64)
            continue
        grads = torch.autograd.grad(g, ts, create_graph=True, allow_unused=True)
        results.append([0.0 if d is None else d.item() for d in grads])
        g = grads[0] if grads[0] is not None else torch.zeros((), dtype=torch.float64)
    return results


def our_derivatives(e, point, order):
    xs = [Value(x) for x in point]
    g = build(e, xs, Ours) + 0.0 * xs[0]
    results = []
    for _ in range(order):
        grads = grad(g, xs, create_graph=True)
        results.append([d.data for d in grads])
        g = grads[0]
    return results


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions(), points)
def test_second_and_third_derivatives_of_random_expressions_match_torch(e, point):
    if e[0] in ("var", "const"):
        return
    try:
        ours = our_derivatives(e, point, 3)
    except (ValueError, ZeroDivisionError, OverflowError):
        return  # out of domain for the engine: its own tests check the errors
    theirs = torch_derivatives(e, point, 3)
    for order, (mine, torchs) in enumerate(zip(ours, theirs), 1):
        for i, (a, b) in enumerate(zip(mine, torchs)):
            assert agree(a, b), (order, i, a, b, e, point)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions(), points)
def test_hessians_of_random_three_variable_functions_match_torch(e, point):
    torch = torch_or_skip()
    if e[0] in ("var", "const"):
        return
    try:
        ours = hessian(lambda v: build(e, v, Ours) + 0.0 * v[0], point)
    except (ValueError, ZeroDivisionError, OverflowError):
        return
    theirs = torch.autograd.functional.hessian(
        lambda a, b, c: build(e, [a, b, c], torch_ops()) + 0.0 * a,
        tuple(torch.tensor(x, dtype=torch.float64) for x in point))
    for i in range(3):
        for j in range(3):
            assert agree(ours[i][j], theirs[i][j].item()), (i, j, e, point)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions(), points)
def test_forward_mode_matches_torch(e, point):
    torch = torch_or_skip()
    if e[0] in ("var", "const"):
        return
    xs = [Value(x) for x in point]
    out = build(e, xs, Ours) + 0.0 * xs[0]
    ts = [tensor(x) for x in point]
    tout = build(e, ts, torch_ops()) + 0.0 * ts[0]
    if not tout.requires_grad:
        return
    expected = torch.autograd.grad(tout, ts, allow_unused=True)
    for x, d in zip(xs, expected):
        assert agree(forward_grad(out, x), 0.0 if d is None else d.item())


def test_nested_differentiation_matches_torch():
    """d/dx [ x * d/dy (x*y + sin(x*y)) ] with the inner derivative taken by grad()."""
    torch = torch_or_skip()
    x, y = Value(0.8), Value(-0.6)
    inner = grad(x * y + (x * y).sin(), [y], create_graph=True)[0]
    ours = grad(x * inner, [x])[0]
    tx, ty = tensor(0.8), tensor(-0.6)
    tinner = torch.autograd.grad(tx * ty + torch.sin(tx * ty), ty, create_graph=True)[0]
    theirs = torch.autograd.grad(tx * tinner, tx)[0].item()
    assert close(ours, theirs)
    # and x * d/dy (x + y) at x = 1: 1, where backward() inside used to give 2
    x, y = Value(1.0), Value(5.0)
    assert grad(x * grad(x + y, [y], create_graph=True)[0], [x]) == [1.0]


def test_newton_step_matches_torch():
    torch = torch_or_skip()
    f = lambda v: (v[0] - 1.0) ** 4 + (v[0] * v[1]).exp() + v[1] ** 2  # noqa: E731
    at = [0.3, -0.2]
    xs = [Value(x) for x in at]
    g = grad(f(xs), xs)
    h = hessian(f, at)
    det = h[0][0] * h[1][1] - h[0][1] * h[1][0]
    step = [(h[1][1] * g[0] - h[0][1] * g[1]) / det, (h[0][0] * g[1] - h[1][0] * g[0]) / det]
    t = torch.tensor(at, dtype=torch.float64)
    tf = lambda z: (z[0] - 1.0) ** 4 + torch.exp(z[0] * z[1]) + z[1] ** 2  # noqa: E731
    th = torch.autograd.functional.hessian(tf, t)
    tg = torch.autograd.functional.jacobian(tf, t)
    tstep = torch.linalg.solve(th, tg)
    assert all(close(a, b.item()) for a, b in zip(step, tstep))
