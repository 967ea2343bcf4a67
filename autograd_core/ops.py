"""The table of operations: what each op computes and what its local derivatives are.

Every operation in `engine.py` registers itself here with the `@op` decorator that sits
right above its method, so the arithmetic and its derivative formulas are written in one
place. Everything that explains an operation to a person reads from this table: the
step-through text, the edge labels in graph pictures, the compiler's generated source and
the docs (`python -m autograd_core` prints the table as Markdown).

Formulas are Python expressions over the names below, so tests can evaluate them and
check that the text a student reads equals the number the engine stores:
    a, b      the operands' data (b: second operand)
    out       the result's data
    n         a constant exponent (the op `**n`)
    w_i, x_i  weight i and input i of a weighted sum (the op `wsum`)
"""

from __future__ import annotations

import math

__all__ = ["Op", "OPS", "op", "op_info", "local_formula", "sigmoid", "relu", "softplus"]


class Op:
    """One row of the table: name, forward formula and one formula per operand."""

    __slots__ = ("name", "symbol", "forward", "derivatives", "operands", "doc")

    def __init__(self, name, symbol, forward, derivatives, operands, doc):
        self.name = name                # the `.op` string stored on result nodes
        self.symbol = symbol            # how the op node is drawn
        self.forward = forward          # out = <forward>
        self.derivatives = derivatives  # d out / d operand, one per operand kind
        self.operands = operands        # operand names, same order as derivatives
        self.doc = doc

    def __repr__(self):
        return f"Op({self.name!r}: out = {self.forward})"


OPS: dict[str, Op] = {}


def op(name, forward, doc="", symbol=None, **derivatives):
    """Register an operation's formulas beside the method that implements it.

    `derivatives` maps each operand name to its local derivative, in operand order:
    `@op("*", "a * b", a="b", b="a")` reads "d(a*b)/da = b, d(a*b)/db = a".
    Returns the decorated function unchanged, so the hot path pays nothing.
    """
    def register(function):
        OPS[name] = Op(name, symbol or name, forward, tuple(derivatives.values()),
                       tuple(derivatives), doc or (function.__doc__ or "").strip())
        return function
    return register


def op_info(op_name: str) -> Op:
    """The table row for a node's `.op` string (`**3` is the row `**n`)."""
    if op_name in OPS:
        return OPS[op_name]
    if op_name.startswith("**"):
        return OPS["**n"]
    raise KeyError(f"unknown operation {op_name!r}; known: {', '.join(OPS)}")


def _exponent(op_name):
    return op_name[2:]


def local_formula(op_name: str, index: int, arity: int) -> tuple[str, str]:
    """(operand name, formula) for d out / d parents[index] of a node with that op.

    For `**n` the exponent is substituted; for the n-ary `wsum` the operand index i is.
    """
    info = op_info(op_name)
    if info.name == "**n":
        n = _exponent(op_name)
        return "a", info.derivatives[0].replace("n", n)
    if info.name == "wsum":
        k = (arity - 1) // 2
        if index < k:
            return f"w_{index + 1}", f"x_{index + 1}"
        if index < 2 * k:
            return f"x_{index - k + 1}", f"w_{index - k + 1}"
        return "b", "1"
    if info.name == "sum":
        return f"a_{index + 1}", "1"
    return info.operands[index], info.derivatives[index]


# Numerically stable scalar helpers shared by the engine and by generated code.

def sigmoid(x: float) -> float:
    """1 / (1 + e^-x) without overflow: exp is only ever taken of a non-positive number."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def relu(x: float) -> float:
    return x if x > 0.0 else 0.0


def softplus(x: float) -> float:
    """log(1 + e^x) as max(x, 0) + log1p(e^-|x|): exp never sees a positive number."""
    return (x if x > 0.0 else 0.0) + math.log1p(math.exp(-abs(x)))


def as_markdown() -> str:
    """The operation table as Markdown, for the docs."""
    # Importing the engine fills OPS (its methods carry the @op decorators).
    from . import engine  # noqa: F401
    rows = ["| op | out = | local derivatives |", "|---|---|---|"]
    for info in OPS.values():
        derivs = ", ".join(f"d out/d{name} = {formula}"
                           for name, formula in zip(info.operands, info.derivatives))
        rows.append(f"| `{info.name}` | `{info.forward}` | `{derivs}` |")
    return "\n".join(rows)

