"""What Value accepts and how Values compare (runs under PyPy too): numbers too large for
a float, bools, fractions and decimals refused as data, operands and labels, each with
a one-line message; requires_grad only True or False; <, <=, >, >= compare data with
numbers and Values only, while == stays identity.
"""

import pytest

from autograd_core import Value


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


def test_requires_grad_and_comparisons_refuse_what_they_cannot_mean():
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        Value(1.0, requires_grad="no")  # a non-empty string used to mean True
    with pytest.raises(TypeError, match="comparing a Value needs an int or float"):
        Value(1.0) < "a"
