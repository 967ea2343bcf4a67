"""Declaring an op (runs under PyPy too): the formula text is checked when it is declared,
not when used; a declared op works everywhere (backward, gradcheck, trace, compile,
second derivatives, the parser, the op table's docs); removing a declaration removes it
from the parser, compiler and docs; ops declared with Python functions.

The oracles are the derivatives worked out by hand (softsign's, a cube's) and gradcheck's
finite differences.
"""

import pytest

import autograd_core as ac
from autograd_core import Value, compile, declare, grad, gradcheck, trace_backward
from autograd_core.methods import undeclare
from tests.helpers import close


@pytest.mark.parametrize("forward, said", [
    ("__import__('os').system('true')", "calls __import__('os').system"),
    ("cosh(a)", "calls cosh"),
    ("a.real", "uses Attribute"),
    ("c * a", "uses the name 'c'"),
    ("'x'", "only numbers"),
    ("[a][0]", "uses Subscript"),
])
def test_a_formula_outside_the_vocabulary_is_refused_when_declared(forward, said):
    # It used to be accepted, then run with Python's builtins (or fail with a NameError)
    # on first use.
    with pytest.raises(ValueError) as caught:
        declare("bad_formula_op", forward=forward, derivatives={"a": "1"})
    assert said in str(caught.value)
    with pytest.raises(ValueError):
        declare("bad_derivative_op", forward="a", derivatives={"a": forward})


def test_a_formula_inside_the_vocabulary_is_declared_and_right():
    softsign = declare("softsign_checked", forward="a / (1 + abs(a))",
                       derivatives={"a": "1 / (1 + abs(a)) ** 2"})
    try:
        assert gradcheck(lambda v: softsign(v[0] * v[1]), [0.8, -1.5],
                         expected=lambda x, y: [y / (1 + abs(x * y)) ** 2,
                                                x / (1 + abs(x * y)) ** 2])
    finally:
        undeclare("softsign_checked")


def test_small_mistakes_get_a_sentence_not_a_bare_exception():
    from autograd_core import Value, hessian
    from autograd_core.testing import assert_derivative
    with pytest.raises(ValueError, match="at least one input"):
        hessian(lambda v: v[0], [])
    with pytest.raises(TypeError, match="more than the 1 input"):
        assert_derivative(lambda v: v[0] * v[1], 0, lambda x: 1 / x)
    assert Value(-2.0).abs().data == 2.0  # x.abs() as the API names it, beside abs(x)


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
