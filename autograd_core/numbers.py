"""The one rule for showing a number anywhere: node names, terminal, picture, page, sheet.

`format_number(x, digits)` gives significant figures with the trailing zeros dropped:
0.1175, 6.144e-6 (never 0.0000 for a small gradient), 1e300 (never 1e+300), 0 (never
-0). `exact_number(x)` is the same style with every figure needed to read back as x,
for echoing what the user typed. `significant_figures(text)` counts the figures of a
number as written, which both `exact_number` and the marking of typed answers need.

Standard library only, and Python 3.9 compatible: node names (autograd_core.naming)
use it, and the engine runs on PyPy.
"""

from __future__ import annotations

import math
import re

__all__ = ["DIGITS", "format_number", "exact_number", "significant_figures"]

DIGITS = 4  # significant figures shown unless asked otherwise; constants in node names too

_PLAIN_NUMBER = re.compile(r"\s*[-+−]?(\d*)\.?(\d*)(?:[eE][-+]?\d+)?\s*")


def format_number(x: float, digits: int = DIGITS) -> str:
    """x to `digits` significant figures: 0.1175, 6.144e-6, 1e300, 0 (never -0)."""
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    text = format(x, f".{max(1, digits)}g")
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if e else text


def exact_number(x: float) -> str:
    """x in format_number's style with every figure it needs to read back as x: an
    input echoed to the user (at x = 1e8, not 100000000.0; 0.123456, not 0.1235)."""
    if not math.isfinite(x):
        return format_number(x)
    shortest = repr(float(x))
    if shortest.endswith(".0"):  # 1e8 is '100000000.0': one figure
        shortest = shortest[:-2]
    text = format_number(x, max(DIGITS, significant_figures(shortest) or DIGITS))
    if float(text) != x:
        # an exact tie (2**-24 = 5.9604644775390625e-08) rounded to even, away from the
        # digits that read back as x: those are repr's
        mantissa, e, exponent = shortest.partition("e")
        text = f"{mantissa}e{int(exponent)}" if e else shortest
    return text


def significant_figures(text: str):
    """Significant figures of a plain number as typed ('0.1175' -> 4, '1e-3' -> 1);
    None for anything else (a fraction, a formula)."""
    match = _PLAIN_NUMBER.fullmatch(text or "")
    if not match or not (match.group(1) or match.group(2)):
        return None
    whole, fraction = match.group(1), match.group(2)
    if "." not in text:  # 1200: the trailing zeros only place the point
        whole = whole.rstrip("0")
    return max(1, len((whole + fraction).lstrip("0")))
