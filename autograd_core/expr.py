"""A safe parser for the little expressions `chainrule grad` and the pages differentiate.

The text is parsed by Python's `ast` and then walked against a whitelist: numbers,
variable names, the constants pi and e, `+ - * / **`, unary `-` and `+`, parentheses,
and calls of the functions declared in the op table (`autograd_core.ops`: exp, log, sin,
..., maximum(a, b)), each with its number of arguments. Nothing is ever evaluated by
Python: `build` makes `autograd_core.Value` nodes directly, so the graph the student sees
is the expression they wrote, and `evaluate` computes the same parsed expression over any
other backend (floats, SymPy symbols, ...):

    parsed = parse("sigmoid(w*x + b)")
    evaluate(parsed, {"w": 0.5, "x": 2.0, "b": -1.0}, backend("floats"))
    evaluate(parsed, sympy_symbols, backend("sympy"))

Every rejected input raises `ExpressionError`, which knows the column it is about, so
the command can print the expression with a caret under the offending part.
"""

from __future__ import annotations

import ast
import math
import re
import warnings

from .engine import Value
from .ops import CONSTANTS, expression_functions
from .vocabulary import backend as vocabulary_backend

__all__ = ["functions", "constants", "MAX_LENGTH", "MAX_DEPTH", "ExpressionError",
           "Expression", "parse", "parse_assignments", "build", "evaluate", "backend"]


def functions() -> dict:
    """{name: number of arguments} of the functions an expression may call: every op in
    the table that declares a name in expressions (so a new declaration adds one)."""
    return {name: info.arity for name, info in expression_functions().items()}


def constants() -> dict:
    """The named constants an expression may use (pi, e), from the op table."""
    return dict(CONSTANTS)


def _function_list():
    return ", ".join(functions())
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
        with warnings.catch_warnings():
            # "1in x" is a SyntaxWarning (invalid decimal literal): make it our error
            # line rather than a warning printed before it.
            warnings.simplefilter("error", SyntaxWarning)
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
        if isinstance(value, complex):
            kind = "a complex number"
        elif isinstance(value, bool):
            kind = f"the truth value {value!r}"
        elif isinstance(value, (str, bytes)):
            kind = f"the text {value!r}"
        else:  # None, Ellipsis: say the literal as written, never its type's name
            kind = repr(value)
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
        if node.id in functions():
            example = "x, y" if functions()[node.id] == 2 else "x"
            raise ExpressionError(f"{node.id} is a function: call it, e.g. {node.id}({example})",
                                  text, *_span(text, node))
        if node.id in constants():
            return
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
                              f"+ - * / **, parentheses, pi, e and {_function_list()}",
                              text, *_span(text, node))


def _check_call(text, node, names, depth):
    if not isinstance(node.func, ast.Name):
        raise ExpressionError(f"only the functions {_function_list()} can be called",
                              text, *_span(text, node.func))
    name = node.func.id
    known = functions()
    if name not in known:
        raise ExpressionError(f"unknown function {name}; the functions are "
                              f"{_function_list()}", text, *_span(text, node.func))
    arity = known[name]
    if node.keywords or len(node.args) != arity or \
            any(isinstance(a, ast.Starred) for a in node.args):
        count = len(node.args) + len(node.keywords)
        wanted = "exactly one argument" if arity == 1 else f"exactly {arity} arguments"
        raise ExpressionError(f"{name} takes {wanted}, got {count}", text, *_span(text, node))
    for argument in node.args:
        _check(text, argument, names, depth + 1)


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
    values, given = {}, {}
    for item in items:
        name, sep, number = item.partition("=")
        name, number = name.strip(), number.strip()
        if not sep or not name:
            raise ExpressionError(f"expected NAME=NUMBER after the expression, got {item!r}")
        if not name.isidentifier():
            raise ExpressionError(f"{name!r} in {item!r} is not a variable name")
        if name in constants():
            raise ExpressionError(f"{name} is the constant {constants()[name]!r}, not a "
                                  f"variable, so it cannot be given a value; remove {item}, "
                                  "or give your variable another name")
        if name in given:
            raise ExpressionError(f"the variable {name} is given twice ({given[name]} and "
                                  f"{item}); give it once")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"{item}: {number!r} is not a number; "
                                  f"write e.g. {name}=0.5") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{item}: the value must be a finite number, got {number}")
        values[name], given[name] = value, item
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
    leaves = {name: Value(values[name], label=name) for name in expression.names
              if name not in constants()}
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
    # Numbers and pi, e are constants: drawn, but they get no gradient and no step.
    if isinstance(node, ast.Constant):
        return Value(_constant_value(text, node), requires_grad=False)
    if isinstance(node, ast.Name):
        if node.id in leaves:
            return leaves[node.id]
        return Value(constants()[node.id], label=node.id, requires_grad=False)
    sign, literal = _negated_number(node)
    if sign is not None:
        return Value(sign * _constant_value(text, literal), requires_grad=False)
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
    else:  # a checked call of a declared function
        arguments = [_build(text, a, leaves, texts, sources) for a in node.args]
        apply = _value_functions()[node.func.id]
        operation = lambda: apply(*arguments)  # noqa: E731
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


# ------------------------------------------------------- any backend: evaluate

def _value_functions():
    """Each declared function applied to Values by the engine."""
    return backend("values")


def backend(name: str) -> dict:
    """The functions and constants of a backend for `evaluate`: "values" (the engine's
    Values: what `build` uses), "floats" (math) or "sympy" (SymPy expressions; needs the
    symbolic extra). A dict: function names -> callables, plus "pi" and "e"."""
    if name not in ("values", "floats", "sympy"):
        raise ValueError(f"unknown backend {name!r}; use values, floats or sympy")
    table = vocabulary_backend(name)
    if name == "values":
        table.update({k: Value(v, label=k, requires_grad=False) for k, v in constants().items()})
    elif name == "floats":
        table.update(constants())
    else:
        import sympy
        table.update({"pi": sympy.pi, "e": sympy.E})
    return table


def evaluate(expression: Expression, variables: dict, functions_=None, number=float):
    """The parsed expression computed over any backend.

    variables: each variable name -> a backend value (a float, a Value, a SymPy symbol);
    functions_: each function name (and pi, e) -> the backend's callable or value, as
    `backend(name)` gives (default: floats); number: turns a literal into the backend's
    number (default float; SymPy may prefer sympy.Rational or sympy.Float).
    The operators + - * / ** and unary - are the backend values' own.
    """
    table = backend("floats") if functions_ is None else functions_
    missing = [name for name in expression.names if name not in variables]
    if missing:
        raise ExpressionError(f"no value for the variable{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)}")
    return _evaluate(expression.tree, variables, table, number)


def _evaluate(node, variables, table, number):
    if isinstance(node, ast.Constant):
        return number(node.value)
    if isinstance(node, ast.Name):
        if node.id in variables:
            return variables[node.id]
        return table[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, variables, table, number)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _evaluate(node.left, variables, table, number)
        right = _evaluate(node.right, variables, table, number)
        symbol = _BINARY[type(node.op)]
        if symbol == "+":
            return left + right
        if symbol == "-":
            return left - right
        if symbol == "*":
            return left * right
        if symbol == "/":
            return left / right
        return left ** right
    arguments = [_evaluate(a, variables, table, number) for a in node.args]
    return table[node.func.id](*arguments)
