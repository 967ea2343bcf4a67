"""Check backward() against central finite differences."""

from __future__ import annotations

from .engine import Value

__all__ = ["gradcheck", "numerical_gradients"]


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


def gradcheck(f, inputs, eps=1e-6, atol=1e-6, rtol=1e-4):
    """Compare f's backward() gradients with finite differences at `inputs`.

    `f` takes a list of Values and returns a Value. Returns the analytic gradients, or
    raises AssertionError naming every input where |analytic - numeric| exceeds
    atol + rtol * |numeric|, with both values.
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
    values = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    out = f(values)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, it returned {type(out).__name__}")
    out.backward()
    analytic = [v.grad for v in values]
    numeric = numerical_gradients(f, xs, eps)
    bad = [f"input {i} (x{i}={x!r}): backward {a!r}, finite differences {n!r}"
           for i, (x, a, n) in enumerate(zip(xs, analytic, numeric))
           if not abs(a - n) <= atol + rtol * abs(n)]
    if bad:
        raise AssertionError("gradcheck: gradients disagree at " + "; ".join(bad))
    return analytic
