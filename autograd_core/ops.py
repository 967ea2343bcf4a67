"""The table of operations: each operation declared once, as formula text.

A declaration says what an operation computes and what its local derivatives are, as
short formulas over the operands:

    Op("*", forward="a * b", derivatives={"a": "b", "b": "a"}, method="__mul__")

reads "out = a*b, d out/da = b, d out/db = a". Everything else follows from that text:
the engine writes `Value.__mul__` from it (engine.py), `compile()` writes the same
expressions into its generated code (so compiled and eager numbers agree bit for bit),
`grad(..., create_graph=True)` evaluates the derivative formulas over Values, the step
text and picture labels quote them, the expression parser takes its function names and
constants from here, and the docs print this table (`python -m autograd_core`).

The formulas are Python expressions over a small vocabulary, so that any backend can
evaluate them by supplying its own meaning for each name (`evaluate(text, namespace)`):
    a, b      the operands (b: the second operand)
    out       the result
    n         a constant exponent (the op `**n`)
    w_i, x_i  weight i and input i of a weighted sum (the op `wsum`)
    exp log sin cos tanh sqrt abs sigmoid softplus   functions of one argument
    where(cond, x, y)   x where cond holds, else y (cond uses < <= > >= ==)
Backends: plain floats (`FLOAT_FUNCTIONS`), Values (for derivatives of derivatives),
numpy arrays (the batch compiler), SymPy symbols (checking a student's formula).
"""

from __future__ import annotations

import ast
import functools
import math

__all__ = ["Op", "Check", "OPS", "CONSTANTS", "VOCABULARY", "FLOAT_FUNCTIONS", "op_info",
           "local_formula", "expression_functions", "evaluate", "python_source",
           "register", "unregister", "as_markdown", "sigmoid", "relu", "softplus"]


# ----------------------------------------------------- numerically stable float helpers

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


# The meaning of the vocabulary over plain floats (eager engine and compile()). `where`
# is not here: Python code gets it as `x if cond else y`, which evaluates one branch.
FLOAT_FUNCTIONS = {"exp": math.exp, "log": math.log, "sin": math.sin, "cos": math.cos,
                   "tanh": math.tanh, "sqrt": math.sqrt, "abs": abs, "sigmoid": sigmoid,
                   "softplus": softplus, "relu": relu}
VOCABULARY = ("a", "b", "out", "n", "where") + tuple(FLOAT_FUNCTIONS)

# Named constants an expression may use (`chainrule grad "sin(pi*x)"`).
CONSTANTS = {"pi": math.pi, "e": math.e}


class Check:
    """A domain rule: when `condition` (formula text) holds, raise `error(message)`.

    The message may name the operands as {a}, {b}, {n}; it is prefixed with the op.
    """

    __slots__ = ("condition", "error", "message")

    def __init__(self, condition, error, message):
        self.condition, self.error, self.message = condition, error, message

    def __repr__(self):
        return f"Check({self.condition!r} -> {self.error.__name__})"


class Op:
    """One row of the table: one operation, declared once.

    name         the `.op` string stored on result nodes ("**n" nodes store "**2", ...)
    forward      formula text for out (or a Python function of the operands' floats)
    derivatives  one formula per operand, in operand order: d out / d operand
    symbol       how the op node is drawn
    function     its name in expressions (`chainrule grad "sin(x)"`), or None
    method       the Value method it becomes ("__mul__", "log"), or None
    reflected    the reflected method for a number on the left ("__rmul__"), or None
    checks       Checks on the operands, before the result is computed
    derivative_checks  {operand: Checks} that apply only when that operand needs a
                 gradient (an infinite derivative nobody asks for is no error)
    parameter    "n" for an op with a constant parameter (the exponent of `**n`)
    nary         True for the n-ary sums (wsum, sum), written by hand in engine.py
    finite       True when out and the derivatives are finite for every finite input
                 (sigmoid, tanh, sin, ...): the engine then skips its overflow checks
    """

    __slots__ = ("name", "symbol", "forward", "derivatives", "operands", "doc", "function",
                 "method", "reflected", "checks", "derivative_checks", "parameter", "nary",
                 "overflow_hint", "user", "finite")

    def __init__(self, name, forward, derivatives, symbol=None, function=None, method=None,
                 reflected=None, checks=(), derivative_checks=None, parameter=None,
                 nary=False, doc="", overflow_hint="", user=False, finite=False):
        if not isinstance(name, str) or not name:
            raise TypeError(f"an operation needs a name (a non-empty str), got {name!r}")
        if not isinstance(derivatives, dict) or not derivatives:
            raise TypeError(f"{name}: derivatives must be a dict operand -> formula, e.g. "
                            "{'a': '1 / a'}")
        self.name = name
        self.forward = forward
        self.derivatives = tuple(derivatives.values())
        self.operands = tuple(derivatives)
        self.symbol = symbol or name
        self.function = function
        self.method = method
        self.reflected = reflected
        self.checks = tuple(checks)
        self.derivative_checks = dict(derivative_checks or {})
        self.parameter = parameter
        self.nary = nary
        self.doc = doc
        self.overflow_hint = overflow_hint
        self.user = user
        self.finite = finite
        if not nary:
            for operand in self.operands:
                if operand not in ("a", "b"):
                    raise ValueError(f"{name}: operands are called a (and b), got {operand!r}")
            for text in (forward,) + self.derivatives:
                if isinstance(text, str):
                    _check_formula(name, text)  # fails here, when declared, not when used

    @property
    def arity(self):
        return len(self.operands)

    def __repr__(self):
        return f"Op({self.name!r}: out = {self.forward})"


OPS: dict = {}


def register(info: Op) -> Op:
    """Add a declaration to the table (engine.declare also installs its method)."""
    if info.name in OPS:
        raise ValueError(f"an operation called {info.name!r} is already declared")
    if info.function and info.function in expression_functions():
        raise ValueError(f"the expression name {info.function!r} is already taken")
    OPS[info.name] = info
    return info


def unregister(name: str) -> Op:
    """Remove a declaration (tests show that removing one removes it everywhere)."""
    return OPS.pop(name)


def op_info(op_name: str) -> Op:
    """The table row for a node's `.op` string (`**3` is the row `**n`)."""
    if op_name in OPS:
        return OPS[op_name]
    if op_name.startswith("**") and "**n" in OPS:
        return OPS["**n"]
    raise KeyError(f"unknown operation {op_name!r}; known: {', '.join(OPS)}")


def exponent_of(op_name: str) -> float:
    """The constant exponent n stored in a `**n` node's op string ("**2" -> 2.0)."""
    return float(op_name[2:])


def expression_functions() -> dict:
    """{name in expressions: Op} for every declared function of one argument."""
    return {info.function: info for info in OPS.values() if info.function}


def local_formula(op_name: str, index: int, arity: int) -> tuple:
    """(operand name, formula) for d out / d parents[index] of a node with that op.

    For `**n` the exponent is substituted; for the n-ary `wsum` the operand index i is.
    The wsum parent layout (w_1..w_k, x_1..x_k, b) is worked out here and only here.
    """
    info = op_info(op_name)
    if info.name == "**n":
        return "a", _substitute(info.derivatives[0], {"n": _number_text(exponent_of(op_name))})
    if info.name == "wsum":
        kind, i = wsum_operand(index, arity)
        return (f"{kind}_{i}" if kind != "b" else "b",
                {"w": f"x_{i}", "x": f"w_{i}", "b": "1"}[kind])
    if info.name == "sum":
        return f"a_{index + 1}", "1"
    formula = info.derivatives[index]
    return info.operands[index], formula if isinstance(formula, str) else f"d{info.name}/d{info.operands[index]}"


def wsum_operand(index: int, arity: int) -> tuple:
    """A wsum node's parents are (w_1..w_k, x_1..x_k, b): ("w", i), ("x", i) or ("b", 0)."""
    k = (arity - 1) // 2
    if index < k:
        return "w", index + 1
    if index < 2 * k:
        return "x", index - k + 1
    return "b", 0


def wsum_partner(index: int, arity: int) -> int:
    """The parent index whose value is d wsum / d parents[index] (-1 for the bias)."""
    k = (arity - 1) // 2
    if index < k:
        return index + k
    if index < 2 * k:
        return index - k
    return -1


def _number_text(x: float) -> str:
    return repr(int(x)) if x == int(x) and abs(x) < 1e15 else repr(x)


# ------------------------------------------------------------- reading the formula text

@functools.lru_cache(maxsize=None)
def _tree(text: str):
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"formula {text!r} is not a valid expression: {error.msg}") from None


class _ToPython(ast.NodeTransformer):
    """where(c, x, y) -> (x if c else y); whole numbers -> floats; each operand name ->
    a {slot} (in a where's condition a {c_slot}, so a backend may compare other names)."""

    def __init__(self):
        self.in_condition = 0

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id == "where":
            if len(node.args) != 3 or node.keywords:
                raise ValueError("where(cond, x, y) takes three arguments")
            self.in_condition += 1
            test = self.visit(node.args[0])
            self.in_condition -= 1
            return ast.IfExp(test=test, body=self.visit(node.args[1]),
                             orelse=self.visit(node.args[2]))
        self.generic_visit(node)
        return node

    def visit_Constant(self, node):
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            return ast.Constant(float(node.value))
        return node

    def visit_Name(self, node):
        if node.id in _OPERAND_NAMES:
            prefix = "c_" if self.in_condition else ""
            return ast.Name(id=f"__slot_{prefix}{node.id}__", ctx=ast.Load())
        return node


_FORMULA_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Call,
                  ast.Name, ast.Load, ast.Constant, ast.Add, ast.Sub, ast.Mult, ast.Div,
                  ast.Pow, ast.USub, ast.UAdd, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq,
                  ast.NotEq, ast.And, ast.Or)


def _check_formula(op_name: str, text: str):
    """A formula may use numbers, the operands, + - * / **, comparisons and the
    vocabulary's functions, nothing else: it is written into generated code, so an
    unknown name or an attribute would otherwise fail (or run) only when first used."""
    tree = _tree(text)
    known = ", ".join(sorted(FLOAT_FUNCTIONS)) + ", where"
    for node in ast.walk(tree):
        if not isinstance(node, _FORMULA_NODES):
            raise ValueError(f"{op_name}: formula {text!r} uses {type(node).__name__}; a "
                             "formula has numbers, a, b, out, + - * / **, comparisons "
                             f"and the functions {known}")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or
                                               not isinstance(node.value, (int, float))):
            raise ValueError(f"{op_name}: formula {text!r} has {node.value!r}; only numbers")
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name) or
                                           node.func.id not in VOCABULARY or node.keywords):
            called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ValueError(f"{op_name}: formula {text!r} calls {called}, which is not one "
                             f"of the functions {known}; for anything else give Python "
                             "functions instead of formula text")
        if isinstance(node, ast.Name) and node.id not in VOCABULARY and \
                node.id not in _OPERAND_NAMES:
            raise ValueError(f"{op_name}: formula {text!r} uses the name {node.id!r}; "
                             "the operands are a (and b) and out, the result")
    python_source(text)


@functools.lru_cache(maxsize=None)
def _python_template(text: str) -> str:
    import copy
    import re
    tree = _ToPython().visit(copy.deepcopy(_tree(text)))
    source = ast.unparse(ast.fix_missing_locations(tree))
    return re.sub(r"__slot_(\w+?)__", r"{\1}", source.replace("{", "{{").replace("}", "}}"))


_OPERAND_NAMES = frozenset({"a", "b", "out", "n", "w_i", "x_i"})


def python_source(text: str, names=None, condition_names=None) -> str:
    """The formula as Python source over floats or Values: where() becomes `x if c else
    y` (one branch evaluated), whole numbers become floats, and each operand name is
    replaced by names[operand] (source text; default: the name itself); inside a
    where's condition by condition_names[operand] (default: as outside).

    The engine's methods and compile()'s code are both written with this, which is why
    their numbers agree bit for bit.
    """
    template = _python_template(text)
    names = names or {}
    condition_names = condition_names or {}
    fill = {k: names.get(k, k) for k in _OPERAND_NAMES}
    fill.update({"c_" + k: condition_names.get(k, fill[k]) for k in _OPERAND_NAMES})
    return template.format_map(fill)


def _substitute(text, names):
    """The formula text with operand names replaced by other text (for display); a
    where() whose condition became a constant is replaced by the branch it picks."""
    import copy

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in names:
                return ast.copy_location(ast.parse(names[node.id], mode="eval").body, node)
            return node

        def visit_Call(self, node):
            self.generic_visit(node)
            if isinstance(node.func, ast.Name) and node.func.id == "where" and len(node.args) == 3:
                try:
                    test = eval(compile(ast.Expression(node.args[0]), "<cond>", "eval"),
                                {"__builtins__": {}, "int": int})  # noqa: S307
                except Exception:
                    return node
                return node.args[1] if test else node.args[2]
            return node
    tree = ast.fix_missing_locations(Rename().visit(copy.deepcopy(_tree(text))))
    return ast.unparse(tree)


@functools.lru_cache(maxsize=None)
def _code(text: str):
    return compile(ast.Expression(body=_tree(text)), f"<formula {text}>", "eval")


def evaluate(text: str, namespace: dict):
    """Evaluate formula text with `namespace` giving every name it uses: the operands
    (a, b, out, n) and the vocabulary (exp, log, ..., where). Nothing else is visible.

    E.g. evaluate(OPS["tanh"].derivatives[0], {"out": 0.5}) == 0.75, or over numpy:
    evaluate(text, {"a": array, "exp": np.exp, "where": np.where, ...}).
    """
    return eval(_code(text), {"__builtins__": {}}, namespace)  # noqa: S307 - our own text


# ---------------------------------------------------------------- the declarations

def _declare(*args, **kwargs):
    return register(Op(*args, **kwargs))


_declare("+", "a + b", {"a": "1", "b": "1"}, method="__add__", reflected="__radd__",
         doc="sum")
_declare("-", "a - b", {"a": "1", "b": "-1"}, method="__sub__", reflected="__rsub__",
         doc="difference")
_declare("*", "a * b", {"a": "b", "b": "a"}, method="__mul__", reflected="__rmul__",
         doc="product")
_declare("/", "a / b", {"a": "1 / b", "b": "-out / b"}, method="__truediv__",
         reflected="__rtruediv__", doc="quotient",
         checks=[Check("b == 0", ZeroDivisionError, "division by zero: {a} / {b}")])
_declare("neg", "-a", {"a": "-1"}, symbol="-", method="__neg__", finite=True, doc="negation")
_declare("**n", "a ** n", {"a": "where(n == 0, 0, n * a ** (n - 1))"}, symbol="**",
         parameter="n", doc="a power with a constant exponent n (a plain number)",
         checks=[Check("a < 0 and n != int(n)", ValueError,
                       "a negative base to a non-integer power is not a real number: "
                       "{a} ** {n}"),
                 Check("a == 0 and n < 0", ZeroDivisionError,
                       "0.0 to the negative power {n} divides by zero")],
         derivative_checks={"a": [Check("a == 0 and 0 < n < 1", ValueError,
                                        "the derivative of a**{n} is infinite at a=0.0; "
                                        "keep the base away from 0")]})
_declare("**", "a ** b", {"a": "where(b == 0, 0, b * a ** (b - 1))",
                          "b": "where(a == 0, 0, out * log(a))"},
         method="_pow_value", reflected="__rpow__", doc="a power whose exponent is a Value",
         checks=[Check("a < 0 and b != int(b)", ValueError,
                       "a negative base to a non-integer power is not a real number: "
                       "{a} ** {b}"),
                 Check("a == 0 and b < 0", ZeroDivisionError,
                       "0.0 to the negative power {b} divides by zero")],
         derivative_checks={
             "a": [Check("a == 0 and 0 < b < 1", ValueError,
                         "the derivative of a**{b} is infinite at a=0.0; "
                         "keep the base away from 0")],
             "b": [Check("a < 0", ValueError,
                         "d(a**b)/db = a**b * ln(a) is undefined for the negative base "
                         "a={a}; use a plain number as the exponent")]})
_declare("exp", "exp(a)", {"a": "out"}, function="exp", method="exp",
         doc="e to the power a", overflow_hint="inputs above 709.78 overflow")
_declare("log", "log(a)", {"a": "1 / a"}, function="log", method="log",
         doc="natural logarithm",
         checks=[Check("a <= 0", ValueError,
                       "log is only defined for positive numbers, got {a}")])
_declare("sin", "sin(a)", {"a": "cos(a)"}, function="sin", method="sin", finite=True, doc="sine")
_declare("cos", "cos(a)", {"a": "-sin(a)"}, function="cos", method="cos", finite=True, doc="cosine")
_declare("sqrt", "sqrt(a)", {"a": "0.5 / out"}, symbol="√", function="sqrt", method="sqrt",
         doc="square root",
         checks=[Check("a < 0", ValueError,
                       "sqrt is only defined for numbers >= 0, got {a}")],
         derivative_checks={"a": [Check("a == 0", ValueError,
                                        "its derivative 1/(2*sqrt(a)) is infinite at a=0.0; "
                                        "keep the input away from 0")]})
_declare("abs", "abs(a)", {"a": "where(a > 0, 1, where(a < 0, -1, 0))"}, symbol="|a|",
         function="abs", method="__abs__",
         finite=True, doc="absolute value; its derivative at 0 is taken as 0 (a subgradient, as PyTorch)")
_declare("tanh", "tanh(a)", {"a": "1 - out ** 2"}, function="tanh", method="tanh",
         finite=True, doc="hyperbolic tangent")
_declare("sigmoid", "sigmoid(a)", {"a": "out * (1 - out)"}, symbol="σ", function="sigmoid",
         method="sigmoid", finite=True, doc="logistic function 1 / (1 + exp(-a)), computed stably")
_declare("relu", "where(a > 0, a, 0)", {"a": "where(a > 0, 1, 0)"}, function="relu",
         method="relu", finite=True, doc="max(a, 0); its derivative at 0 is taken as 0, as PyTorch")
_declare("softplus", "softplus(a)", {"a": "sigmoid(a)"}, function="softplus",
         method="softplus", finite=True, doc="log(1 + exp(a)), computed so that it never overflows")
_declare("maximum", "where(a >= b, a, b)",
         {"a": "where(a > b, 1, where(a < b, 0, 0.5))",
          "b": "where(b > a, 1, where(b < a, 0, 0.5))"},
         symbol="max", function="maximum",
         finite=True, doc="the larger of a and b; at a tie each gets half the gradient (as PyTorch)")
_declare("minimum", "where(a <= b, a, b)",
         {"a": "where(a < b, 1, where(a > b, 0, 0.5))",
          "b": "where(b < a, 1, where(b > a, 0, 0.5))"},
         symbol="min", function="minimum",
         finite=True, doc="the smaller of a and b; at a tie each gets half the gradient (as PyTorch)")
_declare("wsum", "sum(w_i * x_i) + b", {"w_i": "x_i", "x_i": "w_i", "b": "1"},
         symbol="Σwx+b", nary=True,
         doc="a neuron's net input: weights, inputs and bias in one node")
_declare("sum", "a_1 + a_2 + ... + a_k", {"a_i": "1"}, symbol="Σ", nary=True,
         doc="the sum of many terms")


def as_markdown() -> str:
    """The operation table as Markdown, for the docs."""
    rows = ["| op | out = | local derivatives | in expressions |", "|---|---|---|---|"]
    for info in OPS.values():
        if info.user:
            continue
        derivs = ", ".join(f"d out/d{name} = {formula}"
                           for name, formula in zip(info.operands, info.derivatives))
        rows.append(f"| `{info.name}` | `{info.forward}` | `{derivs}` | "
                    f"{'`' + info.function + ('(x, y)`' if info.arity == 2 else '(x)`') if info.function else ''} |")
    return "\n".join(rows)
