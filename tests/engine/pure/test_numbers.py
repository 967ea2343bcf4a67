"""The one number format (autograd_core.numbers): by hand, read back, and in node names."""

import math

import pytest
from hypothesis import example, given, strategies as st

from autograd_core import Value, topological_order
from autograd_core.naming import node_names
from autograd_core.numbers import exact_number, format_number, significant_figures


@pytest.mark.parametrize("x, text", [
    (0.1175018561, "0.1175"), (-0.28200445, "-0.282"), (1.0, "1"), (0.0, "0"),
    (-0.0, "0"), (1e300, "1e300"), (-2.5e-300, "-2.5e-300"), (123456.0, "1.235e5"),
    (6.144174602214718e-06, "6.144e-6"), (12.875, "12.88"), (math.inf, "inf"),
])
def test_format_number_by_hand(x, text):
    assert format_number(x) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
@example(2.0 ** -24)  # an exact tie at its 16 figures: rounding to even reads back wrong
@example(1e8)
def test_exact_number_reads_back_as_the_same_float(x):
    text = exact_number(x)
    assert float(text) == x and "e+" not in text and not text.endswith(".0")


@pytest.mark.parametrize("text, figures", [
    ("0.1175", 4), ("1e-3", 1), ("1200", 2), ("1200.", 4), ("-0.0500", 3), ("−2.5", 2),
    ("1/4", None), ("x", None), ("", None)])
def test_significant_figures_as_written(text, figures):
    assert significant_figures(text) == figures


@given(st.floats())
def test_a_constant_in_a_name_is_the_number_at_4_figures(x):
    # naming had a second formatter for constants (short_number); format_number's default
    # replaced it, and this was its rule: format(x, ".4g") with the exponent unpadded, 0 for -0
    if x == 0:
        expected = "0"
    else:
        mantissa, e, exponent = format(x, ".4g").partition("e")
        expected = mantissa + ("e" + str(int(exponent)) if e else "")
    assert format_number(x) == expected
    if math.isfinite(x):  # and a constant's node name is that number in brackets
        constant = Value(x, requires_grad=False)
        out = Value(1.0, label="w") * constant
        assert node_names(topological_order(out), out)[constant] == f"({expected})"


def test_node_names_write_constants_with_format_number():
    w = Value(2.0, label="w")
    out = w * 0.123456 + 1e-7
    names = node_names(topological_order(out), out)
    assert {"(0.1235)", "(1e-7)"} <= set(names.values())
