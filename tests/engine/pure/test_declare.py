"""A declared operation's formula text is checked when it is declared, not when used."""

import pytest

from autograd_core import declare, gradcheck
from autograd_core.methods import undeclare


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


def test_requires_grad_and_comparisons_refuse_what_they_cannot_mean():
    from autograd_core import Value
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        Value(1.0, requires_grad="no")  # a non-empty string used to mean True
    with pytest.raises(TypeError, match="comparing a Value needs an int or float"):
        Value(1.0) < "a"
