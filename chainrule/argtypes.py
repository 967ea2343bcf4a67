"""Argument types shared by the chainrule subcommands: each rejects a bad value with
one line that says what was given."""

import argparse
import math

_LONGEST_SHOWN = 40


def shown(text, quote=True):
    """The user's text for a message (quoted), shortened if long: never a 300-digit line."""
    text = str(text)
    if len(text) <= _LONGEST_SHOWN:
        return repr(text) if quote else text
    return f"{text[:20]!r}... ({len(text)} characters)"


def finite_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a finite number")
    return value


def whole_number(text):
    stripped = text.strip()
    digits_only = stripped[1:] if stripped[:1] in "+-" else stripped
    # int() also takes '²'-like digits (sometimes), '1_000' and thousands of digits
    # (then fails with Python's digit-limit message); a whole number here is plain ASCII.
    if not (digits_only.isascii() and digits_only.isdigit()):
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number")
    if len(digits_only) > 18:
        raise argparse.ArgumentTypeError(
            f"{shown(text)} is too large; use a number below 10**18")
    return int(stripped)


whole_number.__name__ = "whole number"


def positive_int(text):
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {shown(text, quote=False)}")
    return value


def digits(text):
    """Significant figures to print: 1 to 17 (a float has 17 significant digits)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{shown(text)} is not a whole number; use e.g. --digits 6") from None
    if not 1 <= n <= 17:
        raise argparse.ArgumentTypeError(f"{n} is out of range; use 1 to 17 significant figures")
    return n
