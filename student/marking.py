"""Marking a typed answer: is it the true value, to the figures it is written with?

One rule for every place a student's number is marked: `chainrule quiz`, `chainrule
grade`, `chainrule check` with a claimed number, and the pages' quiz, whose script
(student/static/quiz_marking.js) follows `close_enough` and `parse_answer` line for line.
An answer counts when it equals the true value rounded to the significant figures it is
written with (at least the digits shown): for 0.2350037, 0.235 and 0.2350 are right,
0.23 and the over-precise 0.23504 are not. A fraction (1/4) is exact, so it is right
when it rounds like the true value.
"""

from __future__ import annotations

import math

from autograd_core.numbers import DIGITS, format_number, significant_figures

__all__ = ["tolerance", "significant_figures", "close_enough", "parse_answer", "is_right"]


def tolerance(true: float, digits: int = DIGITS) -> float:
    """How far an answer may be from `true` and still count as `true` rounded to `digits`
    significant figures: half a unit of the last figure (a whole unit took the wrongly
    rounded neighbour too: 0.23 for 0.2350037 at 2 figures), plus float slack."""
    if not math.isfinite(true):
        return 0.0
    if true == 0:
        return 10.0 ** -(digits + 8)
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(true))) - digits + 1) * (1 + 1e-9)


def close_enough(answer: float, true: float, digits: int = DIGITS, text: str = None) -> bool:
    """Does a student's answer equal `true` rounded to the significant figures it is
    written with? Those are `digits`, or more when `text` (the answer as typed) shows
    more. `true` is rounded from its exact float (half a unit of the last figure, never
    a whole one): 0.2 and 0.11 are wrong for 0.1175, 0.12 and 0.118 right. An answer
    typed as a fraction (1/3) is exact, so it is right when it rounds like `true`."""
    if not (math.isfinite(answer) and math.isfinite(true)):
        return answer == true
    if answer == 0 or true == 0:
        return abs(answer - true) <= 10.0 ** -(digits + 8)
    written = significant_figures(text) if text is not None else digits
    if written is None:  # a fraction: exact, so round it as the true value is rounded
        return format_number(answer, digits) == format_number(true, digits)
    figures = max(1, digits, written)
    rounded = float(format(true, f".{figures}g"))
    # the typed number and the rounded one are the same decimal; allow for floats only
    return abs(answer - rounded) <= 1e-9 * abs(rounded)


def parse_answer(text: str) -> float:
    """A typed answer: a number (0.25, -1e-3) or a fraction (1/4); ValueError otherwise."""
    text = text.strip().replace("−", "-")
    top, slash, bottom = text.partition("/")
    try:
        value = float(top) / float(bottom) if slash else float(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{text!r} is not a number; type e.g. 0.25, -1.5e-3 or 1/4") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number; type e.g. 0.25, -1.5e-3 or 1/4")
    return value


def is_right(text: str, true: float, digits: int = DIGITS) -> bool:
    """Is the typed `text` right for `true` at `digits` figures shown? ValueError when it
    is not a number at all (a typo, to be typed again, not a wrong answer)."""
    return close_enough(parse_answer(text), true, digits, text=text.strip())
