"""The op table's formulas as numpy source: the batch compile's translation.

`array_source(text, names)` is a formula of the table (ops.expand gives a node's) with
each operand replaced by the source of its array; a condition or arithmetic on numbers
alone is worked out here, so `where(2 == 0, 0, 2 * a ** (2 - 1))` for a square reads
`2 * a ** 1`, and where(x > 0, x, 0) becomes maximum(x, 0), one pass over the array
instead of three. What each name means over arrays is the vocabulary's numpy backend
(vocabulary.py); `runs_over_arrays(op)` says whether an op's declaration is formula text
in that vocabulary (a user's op declared with Python functions is not).
"""

from __future__ import annotations

import ast
import functools

from .ops import is_operand, op_info

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


class _ToArrays(ast.NodeTransformer):
    """Formula text -> numpy source: operand names become the given source text, a
    condition or arithmetic on numbers alone is worked out here (so `where(2 == 0, 0,
    2 * a ** (2 - 1))` for a square reads `2 * a ** 1`), and Python's `x if c else y`
    (an older table's spelling) becomes where(c, x, y)."""

    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names:
            return ast.parse(self.names[node.id], mode="eval").body
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        return self._where(node.test, node.body, node.orelse)

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "where" and len(node.args) == 3:
            return self._where(*node.args)
        return node

    def _where(self, test, body, orelse):
        known = _number(test)
        if known is not None:
            return body if known else orelse
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
                isinstance(test.ops[0], (ast.Gt, ast.GtE)) and _number(test.comparators[0]) == 0 \
                and _number(orelse) == 0 and ast.dump(test.left) == ast.dump(body):
            # where(x > 0, x, 0) is max(x, 0): one pass over the array instead of three
            return ast.Call(func=ast.Name(id="maximum", ctx=ast.Load()),
                            args=[body, ast.Constant(0.0)], keywords=[])
        return ast.Call(func=ast.Name(id="where", ctx=ast.Load()), args=[test, body, orelse],
                        keywords=[])

    def visit_BinOp(self, node):
        return self._fold(self.generic_visit(node))

    def visit_UnaryOp(self, node):
        return self._fold(self.generic_visit(node))

    def visit_Compare(self, node):
        return self._fold(self.generic_visit(node))

    @staticmethod
    def _fold(node):
        value = _number(node)
        if value is None or isinstance(node, ast.UnaryOp) and _number(node.operand) is not None \
                and value < 0:
            return node  # -1 stays a negation, which unparse parenthesises where needed
        if isinstance(value, bool):
            return ast.Constant(value)
        if value < 0:
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


@functools.lru_cache(maxsize=4096)
def _array_source_cached(text, names):
    tree = _ToArrays(dict(names)).visit(ast.parse(text, mode="eval").body)
    return ast.unparse(ast.fix_missing_locations(tree))


def array_source(text, names):
    """The formula as numpy source, each operand replaced by the given source text."""
    return _array_source_cached(text, tuple(sorted(names.items())))


def is_atomic(text):
    """True when text needs no parentheses as an operand: a name, a positive number,
    an index or a call."""
    return isinstance(ast.parse(text, mode="eval").body,
                      (ast.Name, ast.Constant, ast.Subscript, ast.Call, ast.Attribute))
