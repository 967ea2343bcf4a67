"""Argument types shared by the chainrule subcommands: each rejects a bad value with
one line that says what was given."""

import argparse
import math


def finite_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def digits(text):
    """Decimal places to print: 0 to 17 (a float has 17 significant digits)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number; use e.g. --digits 6") from None
    if not 0 <= n <= 17:
        raise argparse.ArgumentTypeError(f"{n} is out of range; use 0 to 17")
    return n
