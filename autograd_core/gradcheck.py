"""Check backward() against central finite differences, and against a hand derivation."""

from __future__ import annotations

import inspect

from .engine import Value, _check_data

__all__ = ["gradcheck", "numerical_gradients", "call_with_inputs"]


def _evaluate(f, xs):
    out = f([Value(x, label=f"x{i}") for i, x in enumerate(xs)])
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, it returned {type(out).__name__}")
    return out


def numerical_gradients(f, inputs, eps=1e-6):
    """(f(x + eps e_i) - f(x - eps e_i)) / 2 eps for each input i."""
    xs = [float(x) for x in inputs]
    grads = []
    for i, x in enumerate(xs):
        plus = _evaluate(f, xs[:i] + [x + eps] + xs[i + 1:]).data
        minus = _evaluate(f, xs[:i] + [x - eps] + xs[i + 1:]).data
        grads.append((plus - minus) / (2.0 * eps))
    return grads


def call_with_inputs(function, xs):
    """Call a user's function of the input floats: as function(x0, x1, ...), or with the
    one list when it takes a single parameter and there are several inputs."""
    try:
        parameters = inspect.signature(function).parameters.values()
        single = len(xs) > 1 and len(parameters) == 1 and all(
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)
    except (TypeError, ValueError):  # builtins without a signature
        single = False
    return function(list(xs)) if single else function(*xs)


def _expected_values(expected, xs):
    if callable(expected):
        expected = call_with_inputs(expected, xs)
    if isinstance(expected, (int, float)) and len(xs) == 1:
        expected = [expected]
    try:
        expected = list(expected)
    except TypeError:
        raise TypeError(f"gradcheck: expected must be a list of numbers (one per input) or a "
                        f"function giving them, got {type(expected).__name__}") from None
    if len(expected) != len(xs):
        raise ValueError(f"gradcheck: expected has {len(expected)} values for {len(xs)} "
                         "inputs; give one hand-derived gradient per input")
    return [_check_data(e, f"gradcheck: expected[{i}]") for i, e in enumerate(expected)]


def compare(analytic, claimed, xs, rtol, atol, what):
    """The inputs whose engine gradient and claimed value differ, as sentences."""
    return [f"input {i} (x{i}={x!r}): engine {a!r}, {what} {c!r}"
            for i, (x, a, c) in enumerate(zip(xs, analytic, claimed))
            if not abs(a - c) <= atol + rtol * abs(c)]


def gradcheck(f, inputs, eps=1e-6, atol=1e-6, rtol=1e-4, expected=None):
    """Compare f's backward() gradients with finite differences at `inputs`.

    `f` takes a list of Values and returns a Value. Returns the analytic gradients, or
    raises AssertionError naming every input where |analytic - numeric| exceeds
    atol + rtol * |numeric|, with both values.

    With `expected` (a list of hand-derived gradients, one per input, or a function of
    the input floats giving them: f(x0, x1, ...), or f(xs) if it takes one parameter) the
    engine's gradients must also equal those, within the same tolerances; an
    AssertionError names each input whose hand value is wrong, with both numbers.
    """
    if not callable(f):
        raise TypeError(f"gradcheck: f must be callable, got {type(f).__name__}")
    try:
        xs = [float(Value(x).data) for x in inputs]
    except TypeError:
        raise TypeError(f"gradcheck: inputs must be a list of numbers, got {inputs!r}") from None
    if not xs:
        raise ValueError("gradcheck: needs at least one input")
    if eps <= 0:
        raise ValueError(f"gradcheck: eps must be positive, got {eps!r}")
    hand = None if expected is None else _expected_values(expected, xs)
    values = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    out = f(values)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, it returned {type(out).__name__}")
    out.backward()
    analytic = [v.grad for v in values]
    numeric = numerical_gradients(f, xs, eps)
    bad = compare(analytic, numeric, xs, rtol, atol, "finite differences")
    if bad:
        raise AssertionError("gradcheck: gradients disagree at " + "; ".join(bad))
    if hand is not None:
        wrong = compare(analytic, hand, xs, rtol, atol, "hand-derived")
        if wrong:
            raise AssertionError("gradcheck: the hand-derived gradient is wrong at "
                                 + "; ".join(wrong))
    return analytic
