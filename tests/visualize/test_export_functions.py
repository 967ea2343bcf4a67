"""The slides' LaTeX sets every function of the op table upright, a user's declared
function too: the list of function names is the table's, not a copy."""

from autograd_core import Value, declare
from autograd_core.methods import undeclare
from autograd_core.ops import expression_functions
from visualize.export import derivation_latex, latex_formula


def test_every_function_of_the_table_is_an_operator():
    for name in expression_functions():
        assert latex_formula(f"{name}(w)", ["w"]) == rf"\operatorname{{{name}}} ( w )"


def test_a_declared_function_is_set_as_a_function():
    softsign = declare("softsignlatex", forward="a / (1 + abs(a))",
                       derivatives={"a": "1 / (1 + abs(a)) ** 2"}, function="softsignlatex")
    try:
        w = Value(0.5, label="w")
        latex = derivation_latex(softsign(w * 2.0))
        assert r"L = \operatorname{softsignlatex} ( n_{1} )" in latex  # the legend
    finally:
        undeclare("softsignlatex")
