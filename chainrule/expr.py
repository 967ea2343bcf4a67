"""A safe parser for the little expressions `chainrule grad` differentiates.

The text is parsed by Python's `ast` and then walked against a whitelist: numbers,
variable names, `+ - * / **`, unary `-` and `+`, parentheses, and calls of exp, log,
tanh, sigmoid and relu with one argument. Nothing is ever evaluated by Python: the walk
builds `autograd_core.Value` nodes directly, so the graph the student sees is the
expression they wrote.

Every rejected input raises `ExpressionError`, which knows the column it is about, so
the command can print the expression with a caret under the offending part.
"""

from __future__ import annotations

import ast
import math
import re

from autograd_core import Value

__all__ = ["FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH", "ExpressionError", "Expression",
           "parse", "parse_assignments", "build"]

FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu")
MAX_LENGTH = 1000     # longer than any expression a class writes on a board
MAX_DEPTH = 200       # nesting; keeps the walk far below Python's recursion limit
WINDOW = 72           # columns of a long expression shown around an error
SHORT_LABEL = 20      # subexpressions up to this long label their node in the step lines
ROOT_NAMES = ("L", "f", "out", "result")

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class ExpressionError(ValueError):
    """A rejected expression or variable: the message, and where in `text` it is."""

    def __init__(self, message, text=None, start=None, end=None):
        super().__init__(message)
        self.message = message
        self.text = text
        self.start = start          # 0-based character column, or None
        self.end = end              # one past the last offending character

    def where(self) -> str:
        """The expression with carets under the offending part (empty if no column)."""
        if self.text is None or self.start is None:
            return ""
        text = _CONTROL.sub("?", self.text)  # one character each, so columns still match
        start = max(0, min(self.start, len(text)))
        end = max(start + 1, min(self.end or start + 1, len(text) + 1))
        if len(text) > WINDOW:
            # Show the part around the problem, not a screenful of a long expression.
            left = max(0, start - WINDOW // 2)
            right = min(len(text), left + WINDOW)
            prefix, suffix = ("..." if left else ""), ("..." if right < len(text) else "")
            text = prefix + text[left:right] + suffix
            start, end = start - left + len(prefix), min(end, right) - left + len(prefix)
        # Copy tabs so the caret lines up however the terminal expands them.
        pad = "".join("\t" if c == "\t" else " " for c in text[:start])
        return f"  {text}\n  {pad}{'^' * max(1, end - start)}"

    def __str__(self):
        if self.start is None:
            return self.message
        return f"{self.message} (column {self.start + 1})"


class Expression:
    """A parsed, checked expression: its text, tree and the variable names it uses."""

    def __init__(self, text, tree, names):
        self.text = text
        self.tree = tree            # the ast body
        self.names = names          # variable names in order of first appearance

    def __repr__(self):
        return f"Expression({self.text!r})"


def _char_column(text: str, byte_offset: int) -> int:
    """ast columns count UTF-8 bytes; carets need characters."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _span(text, node):
    start = _char_column(text, node.col_offset)
    end = _char_column(text, node.end_col_offset) if node.end_col_offset is not None else None
    return start, end


def parse(text: str) -> Expression:
    """Check `text` against the whitelist; raise ExpressionError saying what and where."""
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be text, got {type(text).__name__}")
    text = text.strip(" \t")  # Python's parser reads leading spaces as an indent
    if not text:
        raise ExpressionError("the expression is empty; write one, e.g. \"sigmoid(w*x + b)\"")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit "
                              f"is {MAX_LENGTH}: differentiate a shorter one")
    bad = _CONTROL.search(text)
    if bad:
        what = "a line break" if bad.group() in "\n\r" else f"the control character {bad.group()!r}"
        raise ExpressionError(f"the expression contains {what}; write it on one line",
                              text, bad.start(), bad.start() + 1)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(text, error) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"the expression is nested too deeply to read; keep it under "
                              f"{MAX_DEPTH} levels") from None
    names = []
    try:
        _check(text, tree.body, names, 0)
    except RecursionError:
        raise ExpressionError(f"the expression is nested too deeply; keep it under "
                              f"{MAX_DEPTH} levels") from None
    return Expression(text, tree.body, names)


def _syntax_error(text, error) -> ExpressionError:
    """Python's SyntaxError, said for this little language, with its column."""
    message = error.msg
    column = None if error.offset is None or error.lineno not in (None, 1) else error.offset - 1
    if column is not None and not 0 <= column < len(text):
        column = len(text)  # Python reports "at the end" as offset 0
        if message == "invalid syntax":
            message = "the expression ends too soon: an operand or a ')' is missing"
    elif message == "invalid syntax":
        if text[column] == "=":
            message = ("'=' cannot appear in the expression; give the variables' values "
                       "after it, as NAME=NUMBER")
        else:
            message = "this is not a valid expression here"
    elif message.startswith("invalid decimal literal"):
        message = "a number runs into a name; write a * between them, e.g. 3*x"
    return ExpressionError(f"malformed expression: {message}", text, column,
                           None if column is None else column + 1)


def _constant_value(text, node):
    """A number literal as a finite float (ints too: the engine computes in floats)."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "a complex number" if isinstance(value, complex) else f"{type(value).__name__} {value!r}"
        raise ExpressionError(f"only real numbers are allowed, not {kind}", text, *_span(text, node))
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ExpressionError("this number is too large for a float (above about 1.8e308)",
                              text, *_span(text, node))
    return number


def _check(text, node, names, depth):
    """Walk the tree, rejecting anything off the whitelist; collect variable names."""
    if depth > MAX_DEPTH:
        raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep; "
                              "split it up", text, *_span(text, node))
    if isinstance(node, ast.Constant):
        _constant_value(text, node)
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} is a function: call it with one argument, "
                                  f"e.g. {node.id}(x)", text, *_span(text, node))
        if node.id not in names:
            names.append(node.id)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            symbol = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&",
                      ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
                      ast.RShift: ">>"}.get(type(node.op), type(node.op).__name__)
            start = _char_column(text, node.left.end_col_offset)
            end = _char_column(text, node.right.col_offset)
            raise ExpressionError(f"the operator {symbol} is not allowed; use + - * / or **",
                                  text, start, end)
        _check(text, node.left, names, depth + 1)
        _check(text, node.right, names, depth + 1)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            symbol = {ast.Not: "not", ast.Invert: "~"}.get(type(node.op), "?")
            raise ExpressionError(f"the operator {symbol} is not allowed; only - and + "
                                  "may stand in front of a term", text, *_span(text, node))
        _check(text, node.operand, names, depth + 1)
    elif isinstance(node, ast.Call):
        _check_call(text, node, names, depth)
    else:
        raise ExpressionError(f"{_describe(node)} is not allowed; use numbers, variables, "
                              f"+ - * / **, parentheses and {', '.join(FUNCTIONS)}",
                              text, *_span(text, node))


def _check_call(text, node, names, depth):
    if not isinstance(node.func, ast.Name):
        raise ExpressionError(f"only the functions {', '.join(FUNCTIONS)} can be called",
                              text, *_span(text, node.func))
    name = node.func.id
    if name not in FUNCTIONS:
        raise ExpressionError(f"unknown function {name}; the functions are "
                              f"{', '.join(FUNCTIONS)}", text, *_span(text, node.func))
    if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
        count = len(node.args) + len(node.keywords)
        raise ExpressionError(f"{name} takes exactly one argument, got {count}",
                              text, *_span(text, node))
    _check(text, node.args[0], names, depth + 1)


def _describe(node) -> str:
    kinds = {ast.Compare: "a comparison", ast.BoolOp: "and/or", ast.Attribute: "an attribute",
             ast.Subscript: "indexing", ast.Lambda: "lambda", ast.IfExp: "if/else",
             ast.Tuple: "a tuple (a comma)", ast.List: "a list", ast.Dict: "a dict",
             ast.Set: "a set", ast.JoinedStr: "an f-string", ast.NamedExpr: ":=",
             ast.Starred: "*", ast.Await: "await", ast.Yield: "yield",
             ast.ListComp: "a comprehension", ast.GeneratorExp: "a generator",
             ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
             ast.Slice: "a slice"}
    return kinds.get(type(node), type(node).__name__)


def parse_assignments(items, expression: Expression) -> dict:
    """['w=-1.2', 'x=0.5'] -> {'w': -1.2, 'x': 0.5}, checked against the expression."""
    values = {}
    for item in items:
        name, sep, number = item.partition("=")
        name, number = name.strip(), number.strip()
        if not sep or not name:
            raise ExpressionError(f"expected NAME=NUMBER after the expression, got {item!r}")
        if not name.isidentifier():
            raise ExpressionError(f"{name!r} in {item!r} is not a variable name")
        if name in values:
            raise ExpressionError(f"the variable {name} is given twice ({name}={values[name]!r} "
                                  f"and {item}); give it once")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"{item}: {number!r} is not a number; "
                                  f"write e.g. {name}=0.5") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{item}: the value must be a finite number, got {number}")
        values[name] = value
    extra = [name for name in values if name not in expression.names]
    if extra:
        raise ExpressionError(f"the variable{'s' if len(extra) > 1 else ''} "
                              f"{', '.join(extra)} {'do' if len(extra) > 1 else 'does'} not "
                              f"appear in the expression {expression.text.strip()!r}; "
                              f"remove {'them' if len(extra) > 1 else 'it'} or check the spelling")
    missing = [name for name in expression.names if name not in values]
    if missing:
        hint = " ".join(f"{name}=NUMBER" for name in missing)
        raise ExpressionError(f"no value for the variable{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)}; add {hint}")
    return values


def root_name(expression: Expression) -> str:
    """The name the output gets in the step lines: L, unless a variable is called L."""
    for name in ROOT_NAMES:
        if name not in expression.names:
            return name
    return "_out"


def build(expression: Expression, values: dict, root_label=None, sources=None):
    """Build the graph: (root Value, {name: leaf Value}).

    Each variable is one leaf labelled by its name; an intermediate node is labelled by
    its own text, in parentheses, when that is short and appears once, so a step line
    reads d(w*x)/dw = x; longer ones stay unlabelled (the step lines call them n1, n2).
    Math errors (log of 0, division by zero, overflow) propagate from the engine with
    its message, which names the operation. `sources`, if given, receives
    {node: its text} for the unlabelled intermediate nodes, for a legend of n1, n2, ...
    """
    leaves = {name: Value(values[name], label=name) for name in expression.names}
    texts = {}
    _count_texts(expression.text, expression.tree, texts)
    root = _build(expression.text, expression.tree, leaves, texts,
                  {} if sources is None else sources)
    if root.parents:
        root.label = root_label or root_name(expression)
    return root, leaves


def _source(text, node) -> str:
    segment = ast.get_source_segment(text, node) or ""
    return " ".join(segment.split())


def _count_texts(text, node, counts):
    for child in ast.walk(node):
        if isinstance(child, (ast.BinOp, ast.UnaryOp, ast.Call)):
            key = _source(text, child)
            counts[key] = counts.get(key, 0) + 1


def _negated_number(node):
    """-2.5 written in the text is the constant -2.5, not neg(2.5)."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        if isinstance(node.op, ast.USub):
            sign = -sign
        node = node.operand
    return (sign, node) if isinstance(node, ast.Constant) else (None, None)


def _build(text, node, leaves, texts, sources):
    if isinstance(node, ast.Constant):
        return Value(_constant_value(text, node))
    if isinstance(node, ast.Name):
        return leaves[node.id]
    sign, literal = _negated_number(node)
    if sign is not None:
        return Value(sign * _constant_value(text, literal))
    if isinstance(node, ast.UnaryOp):
        operand = _build(text, node.operand, leaves, texts, sources)
        if isinstance(node.op, ast.UAdd):
            return operand
        operation = operand.__neg__
    elif isinstance(node, ast.BinOp):
        left = _build(text, node.left, leaves, texts, sources)
        symbol = _BINARY[type(node.op)]
        exponent_sign, exponent = _negated_number(node.right)
        if symbol == "**" and exponent_sign is not None:
            # A number as exponent is the op **n, whose local derivative n*a**(n-1)
            # is the one from the textbook.
            n = exponent_sign * _constant_value(text, exponent)
            operation = lambda: left ** n  # noqa: E731
        else:
            right = _build(text, node.right, leaves, texts, sources)
            method = {"+": left.__add__, "-": left.__sub__, "*": left.__mul__,
                      "/": left.__truediv__, "**": left.__pow__}[symbol]
            operation = lambda: method(right)  # noqa: E731
    else:  # a checked call: one of FUNCTIONS with one argument
        argument = _build(text, node.args[0], leaves, texts, sources)
        operation = getattr(argument, node.func.id)
    try:
        out = operation()
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        # The engine's message names the operation; the caret shows which one it was.
        raise ExpressionError(f"cannot compute {_source(text, node)}: {error}",
                              text, *_span(text, node)) from None
    label = _source(text, node)
    if len(label) <= SHORT_LABEL and texts.get(label) == 1:
        out.label = f"({label})"
    else:
        sources[out] = label
    return out
