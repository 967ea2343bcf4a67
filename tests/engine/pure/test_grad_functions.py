"""Engine 2 without torch (runs under PyPy too): constants, non-finite gradients, new
ops, gradients as functions, forward mode, declared ops, hand-derivation checks.

Oracles here are central finite differences, closed-form derivatives and published
worked examples (micrograd's README); tests/engine/test_engine_against_torch.py has PyTorch's.
"""

import math
import warnings

import pytest

import autograd_core as ac
from autograd_core import (NonFiniteGradientError, OpCount, Value, compile, declare,
                           forward_grad, grad, gradcheck, hessian, maximum, minimum,
                           topological_order, trace_backward)
from autograd_core.methods import undeclare


def close(a, b, rel=1e-9, abs_=1e-12):
    return abs(a - b) <= abs_ + rel * abs(b)


def numeric(f, xs, i, eps=1e-6):
    plus = list(xs)
    minus = list(xs)
    plus[i] += eps
    minus[i] -= eps
    return (f(plus) - f(minus)) / (2 * eps)


# ------------------------------------------------------------------ PyPy regression

def test_backward_gives_real_gradients_with_no_identity_tricks():
    """On PyPy backward() gave 0.0 everywhere (float identity marks); a plain order now."""
    x, y = Value(1.5), Value(-0.5)
    out = (x * y + x.tanh()) * (y - 2.0)
    out.backward()
    f = lambda v: (v[0] * v[1] + math.tanh(v[0])) * (v[1] - 2.0)  # noqa: E731
    assert close(x.grad, numeric(f, [1.5, -0.5], 0), rel=1e-7)
    assert close(y.grad, numeric(f, [1.5, -0.5], 1), rel=1e-7)
    assert x.grad != 0.0 and y.grad != 0.0


# ------------------------------------------------------------------------ constants

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


# --------------------------------------------------- issue 13: non-finite gradients

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


def test_numbers_coming_in():
    with pytest.raises(ValueError) as info:
        Value(10 ** 5000)
    assert "too large for a float" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=10 ** 5000)
    for bad in (True, __import__("fractions").Fraction(1, 3), __import__("decimal").Decimal(1)):
        with pytest.raises(TypeError):
            Value(bad)
        with pytest.raises(TypeError):
            Value(1.0) + bad
        with pytest.raises(TypeError):
            bad * Value(1.0)


def test_comparisons_compare_data_and_equality_stays_identity():
    a, b = Value(1.0), Value(1.0)
    assert a <= b and a >= b and not a < b and a < 2 and 3 > a and a >= 1.0
    assert a != b and a == a and len({a, b}) == 2
    with pytest.raises(TypeError):
        a < "2"


# ----------------------------------------------------------------------- new ops

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


# -------------------------------------------------------------------- forward mode

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


# ----------------------------------------------------------------- declaring an op

@pytest.fixture
def softsign():
    apply = declare("softsign", forward="a / (1 + abs(a))",
                    derivatives={"a": "1 / (1 + abs(a)) ** 2"}, function="softsign",
                    method="softsign")
    yield apply
    undeclare("softsign")


def test_a_declared_op_works_everywhere(softsign):
    from autograd_core import expr
    x = Value(0.8, label="x")
    y = softsign(x * 2.0)
    assert y.op == "softsign" and close(y.data, 1.6 / 2.6)
    gradcheck(lambda v: softsign(v[0] * v[1]), [0.8, -1.3])
    assert gradcheck(lambda v: v[0].softsign(), [0.8], expected=[1 / 1.8 ** 2])
    steps = list(trace_backward(y))
    assert steps[0].formula == "1 / (1 + abs(a)) ** 2" and steps[0].op_symbol == "softsign"
    f = compile(y, [x])
    assert "softsign" not in f.source or "abs" in f.source
    assert f([0.8]) == (y.data, [grad(y, [x])[0]])
    second = grad(grad(y, [x], create_graph=True)[0], [x])[0]
    u = 1.6
    assert close(second, 2.0 * 2.0 * -2 / (1 + u) ** 3)
    parsed = expr.parse("softsign(3*x)")
    root, leaves = expr.build(parsed, {"x": 0.5})
    assert root.op == "softsign" and close(root.data, 1.5 / 2.5)
    assert "softsign" in ac.ops.as_markdown() or ac.OPS["softsign"].user


def test_removing_a_declaration_removes_it_from_the_parser_compiler_and_docs():
    from autograd_core import expr
    saved = dict(ac.ops.OPS)
    ac.ops.unregister("sin")
    try:
        assert "sin" not in expr.functions()
        with pytest.raises(expr.ExpressionError, match="unknown function sin"):
            expr.parse("sin(x)")
        assert "`sin`" not in ac.ops.as_markdown()
        x = Value(0.5)
        y = x.sin()  # the method is still on Value: compile cannot read its node
        with pytest.raises(KeyError, match="unknown operation 'sin'"):
            compile(y, [x])
    finally:
        ac.ops.OPS.clear()
        ac.ops.OPS.update(saved)
    assert "sin" in expr.functions() and "`sin`" in ac.ops.as_markdown()


def test_declaring_with_python_functions():
    cube = declare("cube_fn", forward=lambda a: a ** 3, derivatives=[lambda a, out: 3 * a * a])
    try:
        x = Value(1.5)
        y = cube(x)
        assert y.data == 3.375 and grad(y, [x]) == [6.75]
        assert compile(y, [x])([2.0]) == (8.0, [12.0])
        assert grad(grad(y, [x], create_graph=True)[0], [x]) == [9.0]
    finally:
        undeclare("cube_fn")


# --------------------------------------------------------- hand derivations checked

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


# ------------------------------------------------------------------ micrograd

def test_micrograds_readme_example_with_only_the_import_changed():
    from autograd_core.micrograd import Value
    from tests.micrograd_readme import PUBLISHED, START, readme_expression
    a = Value(START["a"])
    b = Value(START["b"])
    g = readme_expression(a, b)
    assert f'{g.data:.4f}' == PUBLISHED["g"]  # the README's published numbers
    g.backward()
    assert f'{a.grad:.4f}' == PUBLISHED["a.grad"]
    assert f'{b.grad:.4f}' == PUBLISHED["b.grad"]
    assert g._op == "+" and isinstance(g._prev, set) and len(g._prev) == 2
    assert list(trace_backward(g))  # chainrule's tools work on its graphs


def test_micrograd_nn_shapes():
    import random
    from autograd_core.micrograd import MLP, Layer, Neuron, Value
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    assert len(model.parameters()) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    out = model([Value(1.0), Value(-2.0)])
    net = ac.weighted_sum([], [], 0.0).op  # the op a net input node stores
    assert isinstance(out, Value) and out._op == net   # linear output
    assert model.layers[0].neurons[0]([1.0, 2.0])._op == "ReLU"
    assert repr(Neuron(3, nonlin=False)) == "LinearNeuron(3)"
    assert len(Layer(2, 3)([1.0, 2.0])) == 3
    out.backward()
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


# -------------------------------------------------------------- expression parser

def test_parse_once_evaluate_over_backends():
    from autograd_core import expr
    parsed = expr.parse("maximum(x, sin(pi*x)) + e**x / sqrt(abs(y)) + softplus(y)")
    values = {"x": 0.3, "y": -2.0}
    as_float = expr.evaluate(parsed, values, expr.backend("floats"))
    root, _ = expr.build(parsed, values)
    assert close(as_float, root.data, rel=1e-14)
    as_values = expr.evaluate(parsed, {k: Value(v) for k, v in values.items()},
                              expr.backend("values"))
    assert close(as_values.data, root.data, rel=1e-14)
    assert parsed.names == ["x", "y"]


def test_no_syntax_warning_leaks_before_the_error():
    from autograd_core import expr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(expr.ExpressionError) as info:
            expr.parse("1in x")
    assert caught == []
    # Python 3.12 reads "1in" as a number running into a name; 3.9 as "1 in x"
    assert "write a * between" in str(info.value) or "comparison" in str(info.value)


def test_numbers_in_expressions_are_constants():
    from autograd_core import expr
    root, leaves = expr.build(expr.parse("3*x + pi"), {"x": 2.0})
    root.backward()
    constants = [v for v in topological_order(root) if not v.parents and v is not leaves["x"]]
    assert sorted(c.data for c in constants) == [3.0, math.pi]
    assert all(not c.requires_grad and c.grad == 0.0 for c in constants)
