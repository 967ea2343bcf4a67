"""The batch compile's numpy source is the op table's formula renamed by ops.rename (the
one way operands are renamed), then simplified: a where() on numbers becomes its branch,
arithmetic on numbers is worked out, and a negative number keeps its sign where it lands."""

import math

from autograd_core.array_formulas import array_source
from autograd_core.ops import OPS, expand


def test_a_where_on_a_constant_becomes_its_branch():
    square = expand("**2", 1)
    assert array_source(square.derivatives[0], {"a": "x", "n": "2"}) == "2 * x ** 1"
    divide = OPS["/"].derivatives[1]  # -out / b
    assert array_source(divide, {"out": "q", "b": "(-2)"}) == "-q / -2"


def test_relu_over_an_array_is_one_maximum():
    assert array_source(OPS["relu"].forward, {"a": "net1[:, 0]"}) == "maximum(net1[:, 0], 0.0)"


def test_a_negative_zero_keeps_its_sign_as_a_base():
    # -0.0 ** x reads -(0.0 ** x): the zero's sign must stay inside the power
    for exponent in (2.0, 3.0):
        source = array_source("a ** b", {"a": "(-0.0)", "b": "x"})
        value = eval(source, {"__builtins__": {}}, {"x": exponent})  # noqa: S307
        assert math.copysign(1.0, value) == math.copysign(1.0, (-0.0) ** exponent)
        folded = array_source("(a * b) ** c", {"a": "(-0.0)", "b": "1", "c": "x"})  # -0.0
        value = eval(folded, {"__builtins__": {}}, {"x": exponent})  # noqa: S307
        assert math.copysign(1.0, value) == math.copysign(1.0, (-0.0 * 1) ** exponent)


def test_an_operand_that_is_an_expression_stays_one_operand():
    assert array_source("a * b", {"a": "x + y", "b": "z"}) == "(x + y) * z"
