"""What the formula vocabulary means, per backend: the one registry.

The op table's formulas (ops.py) are text over a few names: exp, log, sin, cos, tanh,
sqrt, abs, sigmoid, softplus, relu, where(cond, x, y) and the helper fsum (the exactly
rounded sum over an index, as the engine's n-ary sums compute it). A backend gives each
name a meaning:

    floats   plain Python floats: the engine's methods, compile()'s code
    values   the engine's Values (derivatives of derivatives, the expression parser);
             filled in by methods.py as it writes each operation's method
    numpy    arrays with one row per sample: the batch compile
    sympy    SymPy expressions: checking a student's formula, simplified gradients

`backend(name)` returns {name: meaning} for the vocabulary and every function an
expression may call (maximum(a, b), a user's declared function). numpy and SymPy are
imported only when their backend is asked for.
"""

from __future__ import annotations

import math

from .ops import OPS, FUNCTIONS, SUM_HELPER, evaluate, relu, sigmoid, softplus

__all__ = ["FLOAT_FUNCTIONS", "BACKENDS", "backend", "VALUE_FUNCTIONS", "float_where"]

# The meaning of the vocabulary's functions over plain floats (eager engine and
# compile()). `where` is not here: Python code gets it as `x if cond else y`, which
# evaluates one branch; fsum is math.fsum.
FLOAT_FUNCTIONS = {"exp": math.exp, "log": math.log, "sin": math.sin, "cos": math.cos,
                   "tanh": math.tanh, "sqrt": math.sqrt, "abs": abs, "sigmoid": sigmoid,
                   "softplus": softplus, "relu": relu}
if tuple(FLOAT_FUNCTIONS) != FUNCTIONS:  # a check, not an assert: python -O drops asserts
    raise RuntimeError(f"each name of the vocabulary means one float function: ops.FUNCTIONS "
                       f"is {FUNCTIONS}, FLOAT_FUNCTIONS has {tuple(FLOAT_FUNCTIONS)}")


def float_where(condition, x, y):
    return x if condition else y


def _floats():
    table = dict(FLOAT_FUNCTIONS, where=float_where)
    table[SUM_HELPER] = math.fsum  # exactly rounded, as the engine's n-ary sums
    for info in OPS.values():  # an expression function that is no vocabulary name
        if info.function and info.function not in table:
            table[info.function] = _float_function(info)
    return table


def _float_function(info):
    """A declared op as a function of floats, from its forward formula."""
    def apply(*operands):
        if not isinstance(info.forward, str):
            return info.forward(*operands)
        names = dict(zip(info.operands, operands))
        return evaluate(info.forward, dict(FLOAT_FUNCTIONS, where=float_where, **names))
    return apply


# Filled in by methods.py as it writes the methods (the engine's Values are made there,
# after this module): {expression function: the op applied to Values or numbers},
# `where`, and the helper fsum as value_sum.
VALUE_FUNCTIONS: dict = {}


def _values():
    return dict(VALUE_FUNCTIONS)


def _numpy():
    """The vocabulary over arrays. Each function gives the same number as its float
    meaning to within a few units in the last place, written for speed over whole
    arrays (numpy's own where() and a branch-free stable sigmoid cost several passes
    over the data each). The batch compile's code calls these."""
    import numpy as np

    def where(condition, x, y):
        if np.ndim(condition) == 0:  # the parameters' own values are scalars
            return x if condition else y
        # x * 1 + y * 0 is exactly x (and x * 0 + y * 1 exactly y) for finite values;
        # an inf or nan in the branch not taken raises under the caller's errstate and
        # the per-sample code then decides (the compiled batch's fallback).
        out = np.multiply(condition, x, dtype=np.float64)
        if np.ndim(y) == 0 and y == 0:
            if np.ndim(x) or x < 0:
                out += 0.0  # -0.0 from x * 0 becomes 0.0, as where() gives
        else:
            out += np.multiply(~condition, y, dtype=np.float64)
        return out

    def array_sigmoid(x):
        if np.ndim(x) == 0:
            return sigmoid(x)
        # 1 / (1 + exp(-x)) is within 2 ulp of the float sigmoid everywhere; exp(-x)
        # may overflow to inf for x < -709, and 1 / inf is the right limit 0.
        e = np.negative(x)
        with np.errstate(over="ignore"):
            np.exp(e, out=e)
        e += 1.0
        return np.reciprocal(e, out=e)

    def array_softplus(x):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))

    def array_relu(x):
        return np.maximum(x, 0.0)

    def fsum(terms):
        # Added in order, one array operation per term: an exactly rounded sum over
        # arrays would cost far more, and the batch form promises the engine's numbers
        # to rounding, not to the bit (its layers are matrix products anyway).
        out = terms[0]
        for term in terms[1:]:
            out = out + term
        return out

    return {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sin": np.sin, "cos": np.cos,
            "sqrt": np.sqrt, "abs": np.abs, "sigmoid": array_sigmoid,
            "softplus": array_softplus, "relu": array_relu, "where": where, SUM_HELPER: fsum,
            "maximum": np.maximum, "minimum": np.minimum}


def _sympy():
    try:
        import sympy
    except ImportError:
        raise ImportError("the sympy backend needs SymPy: pip install 'chainrule[symbolic]'") \
            from None
    return {"exp": sympy.exp, "log": sympy.log, "sin": sympy.sin, "cos": sympy.cos,
            "tanh": sympy.tanh, "sqrt": sympy.sqrt, "abs": sympy.Abs,
            "sigmoid": lambda z: 1 / (1 + sympy.exp(-z)),
            "softplus": lambda z: sympy.log(1 + sympy.exp(z)),
            "relu": lambda z: sympy.Max(z, 0), "maximum": sympy.Max, "minimum": sympy.Min,
            "where": lambda c, x, y: sympy.Piecewise((x, c), (y, True)),
            SUM_HELPER: lambda terms: sympy.Add(*terms)}


BACKENDS = {"floats": _floats, "values": _values, "numpy": _numpy, "sympy": _sympy}


def backend(name: str) -> dict:
    """{name: meaning} for the formula vocabulary and the expression functions over
    one backend: "floats", "values", "numpy" or "sympy" (see the module docstring)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; use {', '.join(BACKENDS)}")
    return BACKENDS[name]()
