"""Assertions for checking hand-derived gradients, in pytest or a notebook.

    from autograd_core.testing import assert_grad, assert_derivative

    f = lambda v: (v[0] * v[1] + v[2]).sigmoid()          # sigmoid(w*x + b)
    assert_grad(f, [0.5, 2.0, -1.0], [0.4, 0.1, 0.2])      # your numbers at one point
    assert_derivative(f, 0, lambda w, x, b: s(w*x+b) * (1 - s(w*x+b)) * x)   # a formula

A failure says which input is wrong, with the engine's number and yours; for a formula
it gives the first point where they differ and the chain-rule factors the engine used
there, so you can see which factor of your derivation went wrong. The factors are named,
written and numbered as on every page (autograd_core.naming, numbers.format_number).
"""

from __future__ import annotations

import inspect
import math
import random

from .engine import Value, _check_data, _describe, topological_order
from .functional import grad
from .gradcheck import call_with_inputs, compare
from .naming import legend, node_names, symbolic_local
from .numbers import DIGITS, format_number
from .trace import trace_backward

__all__ = ["assert_grad", "assert_derivative", "chain_rule_factors"]

_UNDEFINED = (ValueError, ZeroDivisionError, OverflowError)


def _engine_gradients(f, at):
    xs = [Value(_check_data(x, f"input {i}"), label=f"x{i}") for i, x in enumerate(at)]
    out = f(xs)
    if not isinstance(out, Value):
        raise TypeError(f"f must return a Value, it returned {_describe(out)}")
    return grad(out, xs)


def assert_grad(f, at, expected, rtol=1e-6, atol=1e-9):
    """The engine's gradients of f at the floats `at` must equal `expected` (one
    hand-derived number per input); else AssertionError naming each wrong input."""
    at = list(at)
    expected = list(expected)
    if len(expected) != len(at):
        raise ValueError(f"assert_grad: {len(expected)} expected values for {len(at)} inputs")
    expected = [_check_data(e, f"assert_grad: expected[{i}]") for i, e in enumerate(expected)]
    engine = _engine_gradients(f, at)
    wrong = compare(engine, expected, at, rtol, atol, "expected")
    if wrong:
        raise AssertionError("assert_grad: wrong gradient at " + "; ".join(wrong))


def chain_rule_factors(f, at, digits: int = DIGITS) -> list:
    """The engine's chain-rule steps for f at `at`, one line each, in the nodes' names
    (autograd_core.naming: the inputs x0, x1, ...; results n1, n2, ... in forward order;
    the output L), each local derivative as the op table's formula in those names:
    'step 4: dn1/dx0 = x1 = 1.548 (*), upstream dL/dn1 = 0.05789, adds 0.0896 to dL/dx0'."""
    return _factors(f, at, digits)[1]


def _factors(f, at, digits=DIGITS):
    """(the legend of the names [(n1, 'x0 * x1'), ...], chain_rule_factors' lines)."""
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(at)]
    out = f(xs)
    order = topological_order(out)
    names = node_names(order, out)
    shown = lambda x: format_number(x, digits)  # noqa: E731
    r = names[out]
    lines = []
    for step in trace_backward(out):
        n, p = names[step.node], names[step.parent]
        lines.append(f"step {step.number}: d{n}/d{p} = "
                     f"{symbolic_local(step.node, step.index, names)} = {shown(step.local)} "
                     f"({step.op_symbol}), upstream d{r}/d{n} = {shown(step.upstream)}, "
                     f"adds {shown(step.contribution)} to d{r}/d{p}")
    return legend(order, names), lines


def _arity(claimed, n_inputs):
    if n_inputs is not None:
        return n_inputs
    try:
        parameters = [p for p in inspect.signature(claimed).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                      and p.default is p.empty]
    except (TypeError, ValueError):
        parameters = []
    if not parameters:
        raise TypeError("assert_derivative: cannot tell how many inputs f takes from "
                        "claimed's parameters; pass n_inputs=")
    return len(parameters)


def assert_derivative(f, wrt, claimed, points=50, seed=0, rtol=1e-6, atol=1e-9,
                      n_inputs=None, low=-3.0, high=3.0):
    """`claimed(x0, x1, ...)` must equal d f / d inputs[wrt] at `points` seeded points.

    Points are drawn uniformly from [low, high] per input (seeded); points where f or its
    gradient is not defined (log of a negative, division by zero, overflow) are skipped
    and redrawn. The number of inputs is the number of parameters of `claimed` (or
    n_inputs). On a mismatch: AssertionError with the first point, both values and the
    engine's chain-rule factors there.
    """
    k = _arity(claimed, n_inputs)
    if isinstance(wrt, bool) or not isinstance(wrt, int) or not 0 <= wrt < k:
        raise ValueError(f"assert_derivative: wrt must be an input index 0..{k - 1}, "
                         f"got {wrt!r}")
    rng = random.Random(seed)
    checked, tries = 0, 0
    while checked < points:
        tries += 1
        if tries > 100 * points:
            raise ValueError(f"assert_derivative: f is defined at only {checked} of "
                             f"{tries - 1} points drawn from [{low}, {high}]; give low= "
                             "and high= inside its domain")
        at = [rng.uniform(low, high) for _ in range(k)]
        try:
            engine = _engine_gradients(f, at)[wrt]
        except IndexError:  # f reads v[k] or beyond: it has more inputs than claimed
            raise TypeError(f"assert_derivative: f reads more than the {k} input(s) that "
                            f"claimed takes; give claimed one parameter per input of f, "
                            f"or pass n_inputs=") from None
        except _UNDEFINED:
            continue  # outside f's domain (or its derivative's): draw another point
        try:
            hand = float(call_with_inputs(claimed, at))
        except _UNDEFINED as error:
            raise AssertionError(f"assert_derivative: claimed fails at {_point(at)} "
                                 f"({error}) where f and its derivative are defined "
                                 f"(engine: {engine!r})") from None
        checked += 1
        if not (math.isfinite(hand) and abs(engine - hand) <= atol + rtol * abs(engine)):
            names, factors = _factors(f, at)
            where = "; ".join(f"{name} = {text}" for name, text in names)
            raise AssertionError(
                f"assert_derivative: d f/d x{wrt} differs at {_point(at)}: engine "
                f"{engine!r}, claimed {hand!r}.\n The engine's chain-rule factors there"
                + (f" (where {where})" if where else "") + ":\n  " + "\n  ".join(factors))


def _point(at):
    return ", ".join(f"x{i}={x!r}" for i, x in enumerate(at))
