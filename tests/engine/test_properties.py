"""Random expressions over every op: gradients equal PyTorch float64 and finite differences.

Expressions are trees built by hypothesis. Domains are guarded by construction, so every
generated expression is defined: log and division see x*x + 0.5, exp sees tanh(x), a
Value exponent has a positive base.
"""

import math
import warnings

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autograd_core import Value, gradcheck, topological_order, value_sum, weighted_sum
from tests.helpers import torch_or_skip

N_VARS = 3
numbers = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)


def positive(e):
    return ("add", ("mul", e, e), ("const", 0.5))


def expressions():
    leaves = st.one_of(st.integers(0, N_VARS - 1).map(lambda i: ("var", i)),
                       # Constants to 3 decimals: torch never differentiates a constant,
                       # so it cannot judge a constant whose local derivative overflows.
                       numbers.map(lambda c: ("const", round(c, 3))))

    def extend(children):
        unary = st.sampled_from(["neg", "tanh", "sigmoid", "relu", "softplus", "exp_tanh",
                                 "log_pos", "square", "cube"])
        binary = st.sampled_from(["add", "sub", "mul", "div_pos", "pow_value", "rsub_num",
                                  "rmul_num"])
        return st.one_of(
            st.tuples(unary, children),
            st.tuples(binary, children, children),
            st.tuples(st.just("pow_const"), children, st.sampled_from([-1.5, -1, 0.5, 2, 2.5])),
            st.tuples(st.just("weighted_sum"), st.lists(children, min_size=2, max_size=4)),
            st.tuples(st.just("value_sum"), st.lists(children, min_size=1, max_size=4)),
        )
    return st.recursive(leaves, extend, max_leaves=12)


class ChainruleOps:
    def var(self, xs, i): return xs[i]
    def const(self, c): return c
    add = staticmethod(lambda a, b: a + b)
    sub = staticmethod(lambda a, b: a - b)
    mul = staticmethod(lambda a, b: a * b)
    rsub_num = staticmethod(lambda a, b: 1.25 - a - b)
    rmul_num = staticmethod(lambda a, b: 0.75 * a * b)
    neg = staticmethod(lambda a: -a)
    # A constant stays a plain float, to exercise number operands; methods need a Value.
    tanh = staticmethod(lambda a: as_value(a).tanh())
    sigmoid = staticmethod(lambda a: as_value(a).sigmoid())
    relu = staticmethod(lambda a: as_value(a).relu())
    softplus = staticmethod(lambda a: as_value(a).softplus())
    exp_tanh = staticmethod(lambda a: as_value(a).tanh().exp())
    log_pos = staticmethod(lambda a: as_value(a * a + 0.5).log())
    square = staticmethod(lambda a: a ** 2)
    cube = staticmethod(lambda a: a ** 3)
    div_pos = staticmethod(lambda a, b: a / (b * b + 0.5))
    pow_value = staticmethod(lambda a, b: (a * a + 0.5) ** as_value(b).tanh())
    pow_const = staticmethod(lambda a, n: as_value(a * a + 0.5) ** n if n != int(n)
                             else as_value(a) ** n)

    @staticmethod
    def weighted_sum(terms):
        k = len(terms) // 2 or 1
        ws, xs = terms[:k], terms[k:2 * k] if len(terms) >= 2 * k else terms[:k]
        return weighted_sum(ws, xs, terms[-1])

    value_sum = staticmethod(lambda terms: value_sum(terms))


class TorchOps(ChainruleOps):
    # tensor methods (softplus has none): the class is made without torch installed
    def const(self, c):
        torch = torch_or_skip()
        return torch.tensor(c, dtype=torch.float64)
    tanh = staticmethod(lambda a: a.tanh())
    sigmoid = staticmethod(lambda a: a.sigmoid())
    relu = staticmethod(lambda a: a.relu())
    softplus = staticmethod(lambda a: torch_or_skip().nn.functional.softplus(a))
    exp_tanh = staticmethod(lambda a: a.tanh().exp())
    log_pos = staticmethod(lambda a: (a * a + 0.5).log())
    pow_value = staticmethod(lambda a, b: (a * a + 0.5) ** b.tanh())
    pow_const = staticmethod(lambda a, n: (a * a + 0.5) ** n if n != int(n) else a ** n)

    @staticmethod
    def weighted_sum(terms):
        k = len(terms) // 2 or 1
        ws, xs = terms[:k], terms[k:2 * k] if len(terms) >= 2 * k else terms[:k]
        total = terms[-1]
        for w, x in zip(ws, xs):
            total = total + w * x
        return total

    @staticmethod
    def value_sum(terms):
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total


def build(expr, xs, ops):
    out = _build(expr, xs, ops)
    if isinstance(ops, TorchOps):  # its results are tensors, and only its
        torch = torch_or_skip()
        ops.finite = ops.finite and bool(torch.isfinite(out).all())
    return out


def _build(expr, xs, ops):
    kind = expr[0]
    if kind == "var":
        return ops.var(xs, expr[1])
    if kind == "const":
        return ops.const(expr[1])
    if kind in ("weighted_sum", "value_sum"):
        return getattr(ops, kind)([build(e, xs, ops) for e in expr[1]])
    if kind == "pow_const":
        return ops.pow_const(build(expr[1], xs, ops), expr[2])
    args = [build(e, xs, ops) for e in expr[1:]]
    return getattr(ops, kind)(*args)


def as_value(x):
    return x if isinstance(x, Value) else Value(x)


def evaluate_chainrule(expr, point):
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    out = as_value(build(expr, xs, ChainruleOps()))
    out.backward()
    return out, xs


def evaluate_torch(expr, point):
    torch = torch_or_skip()
    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    ops = TorchOps()
    ops.finite = True  # every intermediate value finite
    out = build(expr, xs, ops)
    evaluate_torch.all_finite = ops.finite
    if not out.requires_grad:
        return out.item(), [0.0] * len(xs)
    out.backward()
    return out.item(), [0.0 if x.grad is None else x.grad.item() for x in xs]


def safely(fn, *args):
    try:
        return fn(*args)
    except (OverflowError, ZeroDivisionError, ValueError):
        assume(False)  # an intermediate left the float range or hit a pole: not a test


def engine_or_justified_error(expr, point):
    """The engine's result; if it raises, torch float64 must find the point bad too
    (an infinite or nan value or gradient), or the engine refused math that is fine."""
    try:
        return evaluate_chainrule(expr, point)
    except (OverflowError, ZeroDivisionError, ValueError) as error:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own overflow warnings
            t_out, t_grads = evaluate_torch(expr, point)
        finite = evaluate_torch.all_finite and all(
            math.isfinite(v) and abs(v) < 1e300 for v in [t_out, *t_grads])
        assert not finite, (f"the engine raised {error!r} where torch computes every value "
                            f"finite: {t_out}, {t_grads}")
        assume(False)



SETTINGS = dict(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@settings(**SETTINGS)
@given(expressions(), st.lists(numbers, min_size=N_VARS, max_size=N_VARS))
def test_random_expressions_match_torch(expr, point):
    torch_or_skip()
    out, xs = engine_or_justified_error(expr, point)
    assume(all(abs(v.data) < 1e12 for v in topological_order(out)))
    t_out, t_grads = evaluate_torch(expr, point)
    assert math.isclose(out.data, t_out, rel_tol=1e-9, abs_tol=1e-12)
    for x, g in zip(xs, t_grads):
        scale = max(1.0, *(abs(v.grad) for v in xs))
        assert math.isclose(x.grad, g, rel_tol=1e-9, abs_tol=1e-12 * scale), (x.label, x.grad, g)


def away_from_kinks(out, margin=1e-3):
    """Finite differences are meaningless within eps of a kink (relu, abs) or a pole
    (1/b, log, sqrt, a negative power): x**-1 at x = 1.45e-6 with eps = 1e-6 is not a
    derivative but a secant across the pole."""
    def near_zero(node):
        if node.op in ("relu", "abs", "log", "sqrt") or node.op.startswith("**"):
            return abs(node.parents[0].data) <= margin
        if node.op == "/":
            return abs(node.parents[1].data) <= margin
        return False
    return not any(near_zero(v) for v in topological_order(out))


@settings(**SETTINGS)
@given(expressions(), st.lists(numbers, min_size=N_VARS, max_size=N_VARS))
def test_random_expressions_pass_gradcheck(expr, point):
    out, _ = safely(evaluate_chainrule, expr, point)
    assume(away_from_kinks(out))
    assume(all(abs(v.data) < 1e6 for v in topological_order(out)))

    def f(values):
        return as_value(build(expr, values, ChainruleOps()))
    safely(gradcheck, f, point, 1e-6, 1e-5, 1e-4)


@settings(**SETTINGS)
@given(expressions(), st.lists(numbers, min_size=N_VARS, max_size=N_VARS))
def test_trace_backward_equals_backward_on_random_expressions(expr, point):
    from autograd_core import trace_backward
    out, xs = safely(evaluate_chainrule, expr, point)
    out2, xs2 = safely(evaluate_chainrule, expr, point)
    for x in xs2:
        x.grad = 0.0
    for _ in trace_backward(out2):
        pass
    assert [x.grad for x in xs2] == [x.grad for x in xs]


@pytest.mark.parametrize("point", [[0.3, -1.1, 1.7]])
def test_the_generator_covers_every_op(point):
    """Guard against a generator that silently stops producing some op."""
    from hypothesis import find
    net, total = weighted_sum([], [], 0.0).op, value_sum([0.0]).op  # the n-ary nodes' ops
    for op_name in [net, total, "**", "exp", "log", "/", "softplus", "relu", "neg",
                    "tanh", "sigmoid", "+", "-", "*"]:
        def uses(expr, op_name=op_name):
            try:
                out, _ = evaluate_chainrule(expr, point)
            except (OverflowError, ZeroDivisionError, ValueError):
                return False
            return any(v.op == op_name for v in topological_order(out))
        find(expressions(), uses, settings=settings(max_examples=2000, database=None))
