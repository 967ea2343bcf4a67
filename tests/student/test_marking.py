"""Marking a typed answer (student.marking): the true value rounded to the figures written."""

import pytest
from hypothesis import given, strategies as st

from autograd_core.numbers import format_number
from student.marking import close_enough, is_right, parse_answer, tolerance


@given(st.floats(-1e307, 1e307), st.integers(1, 17))
def test_format_number_round_trips_to_the_digits_shown(x, digits):
    text = format_number(x, digits)
    assert text != "-0" and "e+" not in text and len(text) <= digits + 9
    assert close_enough(float(text), x, digits)


def test_close_enough_and_parse_answer():
    assert close_enough(0.1175, 0.1175018561) and not close_enough(0.1176, 0.1175018561)
    assert not close_enough(0.12, 0.1175018561) and not close_enough(0.2350, 0.1175018561)
    assert close_enough(parse_answer("1/4"), 0.25) and parse_answer(" −0.5 ") == -0.5
    assert tolerance(0.0) < 1e-10 and close_enough(0.0, 0.0)
    for bad in ("abc", "1/0", "inf", ""):
        with pytest.raises(ValueError, match="not"):
            parse_answer(bad)


@pytest.mark.parametrize("typed, right", [
    ("0.2", False), ("0.11", False), ("0.1", True), ("0.12", True), ("0.118", True),
    ("0.1175", True), ("0.1176", False), ("0.1174", False)])
def test_an_answer_is_the_true_value_rounded_to_the_figures_written(typed, right):
    # Half a unit of the last figure written, not a whole one in both directions.
    assert close_enough(parse_answer(typed), 0.1175018561, 1, text=typed) is right


def test_rounding_uses_the_exact_float_and_refuses_the_other_neighbour():
    assert close_enough(1.573, 1.5729, 4, text="1.573")
    assert not close_enough(1.572, 1.5729, 4, text="1.572")
    true = 0.2350000001
    assert close_enough(0.24, true, 2, text="0.24") and not close_enough(0.23, true, 2, text="0.23")
    true = 0.2349999999
    assert close_enough(0.23, true, 2, text="0.23") and not close_enough(0.24, true, 2, text="0.24")
    # more figures than asked are held to those figures
    assert close_enough(0.235, true, 2, text="0.235") and not close_enough(0.236, true, 2, text="0.236")


@pytest.mark.parametrize("typed, right", [
    (" 0.2350 ", True), ("0.235", True), ("0.23504", False), ("0.23", False), ("47/200", True)])
def test_is_right_marks_text_as_typed_the_way_the_quiz_does(typed, right):
    true = 0.2350037
    assert is_right(typed, true, 3) is right
    assert is_right(typed, true, 3) is close_enough(parse_answer(typed), true, 3,
                                                    text=typed.strip())


def test_is_right_refuses_a_typo_instead_of_marking_it_wrong():
    with pytest.raises(ValueError, match="not a number"):
        is_right("0.2.3", 0.235, 3)
