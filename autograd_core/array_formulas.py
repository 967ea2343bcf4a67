"""The op table's formulas as numpy source: the batch compile's translation.

`array_source(text, names)` is a formula of the table (ops.expand gives a node's) with
each operand replaced by the source of its array, or by a constant's number (ops.rename
puts them in and decides a where() on numbers); arithmetic on numbers alone is worked
out here, so `where(n == 0, 0, n * a ** (n - 1))` for a square reads `2 * a ** 1`, and
where(x > 0, x, 0) becomes maximum(x, 0), one pass over the array instead of three. What each name means over arrays is the vocabulary's numpy backend
(vocabulary.py); `runs_over_arrays(op)` says whether an op's declaration is formula text
in that vocabulary (a user's op declared with Python functions is not).
"""

from __future__ import annotations

import ast
import functools
import math

from .compiler import literal
from .ops import is_operand, op_info, rename

__all__ = ["array_source", "is_atomic", "parsed", "names_in", "runs_over_arrays"]

_builtin_compile = compile


def runs_over_arrays(op_name, vocabulary) -> bool:
    """Whether the op's declaration is formula text whose every name is an operand or
    has a meaning in `vocabulary` (the numpy backend's names)."""
    info = op_info(op_name)
    texts = (info.forward,) + tuple(info.derivatives)
    if not all(isinstance(text, str) for text in texts):
        return False
    return all(is_operand(name) or name in vocabulary for text in texts
               for name in names_in(text))


@functools.lru_cache(maxsize=None)
def names_in(text) -> frozenset:
    """Every name the formula text uses."""
    return frozenset(node.id for node in ast.walk(parsed(text)) if isinstance(node, ast.Name))


class _Simplify(ast.NodeTransformer):
    """Numpy source, operands already put in (ops.rename): arithmetic on numbers alone is
    worked out (`2 * a ** (2 - 1)` for a square reads `2 * a ** 1`), and where(x > 0, x,
    0) becomes maximum(x, 0), one pass over the array instead of three."""

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "where" and len(node.args) == 3:
            test, body, orelse = node.args
            if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
                    isinstance(test.ops[0], (ast.Gt, ast.GtE)) and \
                    _number(test.comparators[0]) == 0 and _number(orelse) == 0 and \
                    ast.dump(test.left) == ast.dump(body):
                return ast.Call(func=ast.Name(id="maximum", ctx=ast.Load()),
                                args=[body, ast.Constant(0.0)], keywords=[])
        return node

    def visit_BinOp(self, node):
        return self._fold(self.generic_visit(node))

    def visit_UnaryOp(self, node):
        return self._fold(self.generic_visit(node))

    def visit_Compare(self, node):
        return self._fold(self.generic_visit(node))

    @staticmethod
    def _fold(node):
        value = _number(node)
        if value is None:
            return node
        if isinstance(value, bool):
            return ast.Constant(value)
        if math.copysign(1.0, value) < 0:
            if isinstance(node, ast.UnaryOp) and _number(node.operand) is not None:
                return node  # -1 stays a negation, which unparse parenthesises where needed
            # (a negative Constant would be unparsed bare: -2.0 ** x, which is -(2.0 ** x))
            return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
        return ast.Constant(value)


def _number(node):
    """The value of an expression of numbers alone, else None."""
    for part in ast.walk(node):
        if not isinstance(part, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.Compare,
                                 ast.operator, ast.unaryop, ast.cmpop, ast.expr_context)):
            return None
        if isinstance(part, ast.Constant) and not isinstance(part.value, (int, float)):
            return None
    try:
        # (nodes made here have no line numbers yet: compile() needs them)
        code = _builtin_compile(ast.fix_missing_locations(ast.Expression(body=node)),
                                "<fold>", "eval")
        value = eval(code, {"__builtins__": {}})  # noqa: S307 - numbers alone
    except (ArithmeticError, ValueError, TypeError):
        return None
    return value if isinstance(value, (int, float)) and value == value else None


@functools.lru_cache(maxsize=None)
def parsed(text):
    return ast.parse(text, mode="eval").body


def _number_in(source):
    """The number a source text is (a constant's literal: 2, (-0.5)), or None."""
    try:
        value = ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError):
        return None
    return float(value) if type(value) in (int, float) else None


@functools.lru_cache(maxsize=4096)
def _array_source_cached(text, names):
    arrays, numbers = {}, {}
    for operand, source in names:
        value = _number_in(source)
        if value is None:
            arrays[operand] = source if is_atomic(source) else f"({source})"
        else:  # put in as a number, so that a where() it decides becomes its branch
            numbers[operand] = value
    renamed = rename(text, arrays, numbers, write_number=literal)
    tree = _Simplify().visit(ast.parse(renamed, mode="eval").body)
    return ast.unparse(ast.fix_missing_locations(tree))


def array_source(text, names):
    """The formula as numpy source, each operand replaced by the given source text (an
    array's, or a constant's literal, which is put in as that number)."""
    return _array_source_cached(text, tuple(sorted(names.items())))


def is_atomic(text):
    """True when text needs no parentheses as an operand: a name, a positive number,
    an index or a call."""
    return isinstance(ast.parse(text, mode="eval").body,
                      (ast.Name, ast.Constant, ast.Subscript, ast.Call, ast.Attribute))
