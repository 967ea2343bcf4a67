"""The table of operations: each operation declared once, as formula text.

A declaration says what an operation computes and what its local derivatives are, as
short formulas over the operands:

    Op("*", forward="a * b", derivatives={"a": "b", "b": "a"}, method="__mul__")

reads "out = a*b, d out/da = b, d out/db = a". Everything else follows from that text:
the engine writes `Value.__mul__` from it (methods.py), `compile()` writes the same
expressions into its generated code (so compiled and eager numbers agree bit for bit),
`grad(..., create_graph=True)` evaluates the derivative formulas over Values, the step
text and picture labels quote them, the expression parser takes its function names and
constants from here, and the docs print this table (`python -m autograd_core`).

Every reader asks `expand(node.op, len(node.parents))` for a node's formulas: the
forward formula and one derivative per parent, in that node's operand names, with the
parameter (the n of `**3`) read from the op string. The n-ary rows are formulas too: an
operand with the index i (`w_i`, `x_i`, `a_i`) is repeated, its count following from the
node's number of parents, and `fsum(...)` is the exactly rounded sum over i, a helper
of the vocabulary (as PyTorch's derivatives.yaml names a helper where text cannot say it).

It is one module of some 670 lines because the rows, the expansion of a row for one node
and the reading of a row's text (checking it, writing it as Python, renaming its
operands for display) are one fact: what each operation computes.

The formulas are Python expressions over a small vocabulary (vocabulary.py), so that
any backend can evaluate them by supplying its own meaning for each name
(`evaluate(text, namespace)`):
    a, b      the operands (b: the second operand)
    out       the result
    n         a constant parameter read from the op string (the exponent of `**n`)
    w_i, x_i  operands repeated with an index i (weight i and input i of `wsum`)
    exp log sin cos tanh sqrt abs sigmoid softplus relu   functions of one argument
    where(cond, x, y)   x where cond holds, else y (cond uses < <= > >= ==)
    fsum(t_i)  the exactly rounded sum of the terms t_i over every i
"""

from __future__ import annotations

import ast
import copy
import functools
import math
import re

__all__ = ["Op", "Check", "OPS", "CONSTANTS", "VOCABULARY", "FUNCTIONS", "SUM_HELPER",
           "BATCH_LAYOUTS", "op_info",
           "Expansion", "expand", "is_operand", "local_formula", "expression_functions", "evaluate",
           "python_source", "rename", "number_text", "register", "unregister",
           "as_markdown", "sigmoid", "relu", "softplus"]


# ----------------------------------------------------- numerically stable float helpers
# (what sigmoid and softplus mean over floats; vocabulary.py maps every name to them)

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


# The names a formula may call; what each means per backend is vocabulary.py's.
FUNCTIONS = ("exp", "log", "sin", "cos", "tanh", "sqrt", "abs", "sigmoid", "softplus", "relu")
SUM_HELPER = "fsum"  # fsum(t_i): the exactly rounded sum of the terms t_i over every i
VOCABULARY = ("a", "b", "out", "n", "where", SUM_HELPER) + FUNCTIONS

# The shapes batch_writer.py knows how to lay out as one array operation (Op.batch_layout).
BATCH_LAYOUTS = ("layer", "total")

# Named constants an expression may use (`chainrule grad "sin(pi*x)"`).
CONSTANTS = {"pi": math.pi, "e": math.e}

# a, b, out, the parameter n, and an indexed operand: w_i in the table, w_3 in a node
_OPERAND = re.compile(r"\b(?:[a-z]_(?:i|[1-9][0-9]*)|out|a|b|n)\b")


def is_operand(name: str) -> bool:
    """Whether a name in a formula stands for an operand (not for a function)."""
    return _OPERAND.fullmatch(name) is not None


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

    name         the row's name; the `.op` string stored on result nodes, except for a
                 row with a parameter, whose nodes store it filled in ("**n": "**2")
    forward      formula text for out (or a Python function of the operands' floats)
    derivatives  one formula per operand, in operand order: d out / d operand; an
                 operand named with the index i (w_i) stands for as many as a node has
    symbol       how the op node is drawn
    stem         how generated code names an unlabelled result ("add" for "+")
    function     its name in expressions (`chainrule grad "sin(x)"`), or None
    method       the Value method it becomes ("__mul__", "log"; "_pow_constant" and
                 "_pow_value", which Value.__pow__ picks between), or None
    reflected    the reflected method for a number on the left ("__rmul__"), or None
    checks       Checks on the operands, before the result is computed
    derivative_checks  {operand: Checks} that apply only when that operand needs a
                 gradient (an infinite derivative nobody asks for is no error)
    parameter    "n" for an op with a constant parameter (the exponent of `**n`)
    nary         True for the n-ary sums (wsum, sum), computed by engine.py's own functions
    finite       True when out and the derivatives are finite for every finite input
                 (sigmoid, tanh, sin, ...): the engine then skips its overflow checks
    batch_layout how the batch compile lays out a group of these nodes as one array
                 operation (batch_writer.py): "layer" for the weighted sum w . x + b (a
                 layer's neurons: one matrix product), "total" for a plain sum (of a whole
                 group's columns: one array sum); None for one operation per column
    apply        the engine's function applying it to Values or numbers (set by methods.py)
    """

    __slots__ = ("name", "symbol", "stem", "forward", "derivatives", "operands", "doc",
                 "function", "method", "reflected", "checks", "derivative_checks",
                 "parameter", "nary", "overflow_hint", "user", "finite", "batch_layout",
                 "apply")

    def __init__(self, name, forward, derivatives, symbol=None, function=None, method=None,
                 reflected=None, checks=(), derivative_checks=None, parameter=None,
                 nary=False, doc="", overflow_hint="", user=False, finite=False, stem=None,
                 batch_layout=None):
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
        self.stem = stem or name
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
        if batch_layout not in BATCH_LAYOUTS + (None,):
            raise ValueError(f"{name}: batch_layout is one of {', '.join(BATCH_LAYOUTS)} "
                             f"or None, got {batch_layout!r}")
        self.batch_layout = batch_layout
        self.apply = None
        allowed = {"a", "b"} if not nary else None
        for operand in self.operands:
            if allowed is not None and operand not in allowed or not is_operand(operand):
                raise ValueError(f"{name}: operands are called a (and b), got {operand!r}")
        if parameter is not None and not name.endswith(parameter):
            raise ValueError(f"{name}: the parameter {parameter!r} ends the name, as in **n")
        for text in (forward,) + self.derivatives:
            if isinstance(text, str):
                _check_formula(name, text)  # fails here, when declared, not when used

    @property
    def arity(self):
        return len(self.operands)

    @property
    def prefix(self):
        """What a node's op string holds before the parameter's value ("**" of "**2"),
        and the op's name in error messages."""
        return self.name[:-len(self.parameter)] if self.parameter else self.name

    def __repr__(self):
        return f"Op({self.name!r}: out = {self.forward})"


OPS: dict = {}


def register(info: Op) -> Op:
    """Add a declaration to the table (methods.declare also installs its method)."""
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
    for info in OPS.values():
        if info.parameter and op_name.startswith(info.prefix):
            try:
                float(op_name[len(info.prefix):])
            except ValueError:
                continue
            return info
    raise KeyError(f"unknown operation {op_name!r}; known: {', '.join(OPS)}")


def number_text(x: float) -> str:
    """A parameter's value as op strings and formulas write it: 2, not 2.0."""
    return repr(int(x)) if x == int(x) and abs(x) < 1e15 else repr(x)


def expression_functions() -> dict:
    """{name in expressions: Op} for every declared function of one argument."""
    return {info.function: info for info in OPS.values() if info.function}


# ------------------------------------------------------------ one node's formulas

class Expansion:
    """One node's op written out for its number of parents (see `expand`).

    op           the table row
    operands     the operand name of each parent, in order: ("a", "b"), or
                 ("w_1", "w_2", "x_1", "x_2", "b") for a wsum of two inputs
    forward      the forward formula in those names (or the user's Python function)
    derivatives  d out / d parents[i] for each parent, in those names (or functions)
    bindings     {parameter: its value} read from the op string ({"n": 2.0} for "**2")
    symbol       how the node's op is drawn ("**2" for a parameter, else the row's)
    """

    __slots__ = ("op", "operands", "forward", "derivatives", "bindings", "symbol",
                 "index_of", "_shown")

    def __init__(self, op, operands, forward, derivatives, bindings, symbol):
        self.op, self.operands, self.forward = op, operands, forward
        self.derivatives, self.bindings, self.symbol = derivatives, bindings, symbol
        self.index_of = {name: i for i, name in enumerate(operands)}
        self._shown = {}

    def names(self, parents) -> dict:
        """{operand name: parent} for the parents of a node of this expansion."""
        return dict(zip(self.operands, parents))

    def grouped(self, parents) -> list:
        """The parents as the row declares its operands: one per plain operand, a tuple
        per indexed one (weighted_sum's (weights, inputs, bias))."""
        groups, at = [], 0
        count = _repeats(self.op, len(parents))
        for operand in self.op.operands:
            if _indexed(operand):
                groups.append(tuple(parents[at:at + count]))
                at += count
            else:
                groups.append(parents[at])
                at += 1
        return groups

    def shown_derivative(self, index) -> str:
        """d out / d parents[index] as shown to a reader: the parameter filled in and a
        where() it decides replaced by its branch (2 * a ** (2 - 1) for a square)."""
        text = self.derivatives[index]
        if not isinstance(text, str):
            return f"d{self.op.name}/d{self.operands[index]}"
        if index not in self._shown:
            self._shown[index] = rename(text, numbers=self.bindings)
        return self._shown[index]

    def shown_forward(self) -> str:
        """The row's forward formula as shown to a reader, the parameter filled in."""
        if not isinstance(self.op.forward, str):
            return self.op.name
        return rename(self.op.forward, numbers=self.bindings, display=True)


def _indexed(operand) -> bool:
    return operand.endswith("_i")


def _repeats(info, arity) -> int:
    """How many times each indexed operand stands in a node of `arity` parents."""
    indexed = sum(map(_indexed, info.operands))
    plain = len(info.operands) - indexed
    if not indexed:
        count = 0
        ok = arity == plain
    else:
        count, rest = divmod(arity - plain, indexed)
        ok = rest == 0 and count >= 1
    if not ok:
        raise ValueError(f"{info.name}: a node of this op cannot have {arity} parents")
    return count


_EXPANSIONS: dict = {}


def expand(op_name: str, arity: int) -> Expansion:
    """The formulas of a node with op string `op_name` and `arity` parents."""
    info = op_info(op_name)
    key = (op_name, arity)
    cached = _EXPANSIONS.get(key)
    if cached is not None and cached.op is info:
        return cached
    count = _repeats(info, arity)
    bindings = {}
    symbol = info.symbol
    if info.parameter:
        bindings[info.parameter] = float(op_name[len(info.prefix):])
        symbol = info.symbol + op_name[len(info.prefix):]
    operands, derivatives = [], []
    for operand, formula in zip(info.operands, info.derivatives):
        if _indexed(operand):
            stem = operand[:-2]
            for j in range(1, count + 1):
                operands.append(f"{stem}_{j}")
                derivatives.append(_with_index(formula, j))
        else:
            operands.append(operand)
            derivatives.append(formula)
    forward = info.forward if not isinstance(info.forward, str) or not count \
        else _expanded_sums(info.forward, count)
    expansion = _EXPANSIONS[key] = Expansion(info, tuple(operands), forward,
                                             tuple(derivatives), bindings, symbol)
    return expansion


def _with_index(formula, j):
    """An indexed formula for index j: x_i -> x_3."""
    if not isinstance(formula, str):
        return formula
    template = _index_template(formula)
    return formula if template is None else template.format(j=j)


@functools.lru_cache(maxsize=None)
def _index_template(formula):
    """The formula renamed once with {j} for every index (x_i -> x_{j}), or None when
    it has none: a wsum of 784 inputs needs it for each of them."""
    indexed = {node.id: f"{node.id[:-1]}{{j}}" for node in ast.walk(_tree(formula))
               if isinstance(node, ast.Name) and is_operand(node.id) and _indexed(node.id)}
    return rename(formula, indexed) if indexed else None


def _expanded_sums(text, count):
    """fsum(t_i) -> fsum((t_1, t_2, ..., t_count)): the helper over every index."""

    class Expand(ast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            if isinstance(node.func, ast.Name) and node.func.id == SUM_HELPER:
                term = ast.unparse(node.args[0])
                terms = [ast.parse(_with_index(term, j), mode="eval").body
                         for j in range(1, count + 1)]
                node.args = [ast.Tuple(elts=terms, ctx=ast.Load())]
            return node
    return ast.unparse(ast.fix_missing_locations(Expand().visit(copy.deepcopy(_tree(text)))))


def local_formula(op_name: str, index: int, arity: int) -> tuple:
    """(operand name, formula as shown) for d out / d parents[index] of such a node."""
    expansion = expand(op_name, arity)
    return expansion.operands[index], expansion.shown_derivative(index)


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
        if is_operand(node.id):
            prefix = "c_" if self.in_condition else ""
            return ast.Name(id=f"__slot_{prefix}{node.id}__", ctx=ast.Load())
        return node


_FORMULA_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Call,
                  ast.Name, ast.Load, ast.Constant, ast.Add, ast.Sub, ast.Mult, ast.Div,
                  ast.Pow, ast.USub, ast.UAdd, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq,
                  ast.NotEq, ast.And, ast.Or, ast.Tuple)


def _check_formula(op_name: str, text: str):
    """A formula may use numbers, the operands, + - * / **, comparisons and the
    vocabulary's functions, nothing else: it is written into generated code, so an
    unknown name or an attribute would otherwise fail (or run) only when first used."""
    tree = _tree(text)
    known = ", ".join(sorted(FUNCTIONS)) + ", where"
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
                not is_operand(node.id):
            raise ValueError(f"{op_name}: formula {text!r} uses the name {node.id!r}; "
                             "the operands are a (and b) and out, the result")
    python_source(text)


_SLOT = re.compile(r"__slot_(\w+?)__")


@functools.lru_cache(maxsize=None)
def _python_template(text: str) -> str:
    tree = _ToPython().visit(copy.deepcopy(_tree(text)))
    source = ast.unparse(ast.fix_missing_locations(tree))
    return _SLOT.sub(r"{\1}", source.replace("{", "{{").replace("}", "}}"))


class _Fill:
    """format_map's names, read without copying them: an operand not given stays
    itself; in a condition ({c_a}) the condition's own name, else the name outside."""

    __slots__ = ("names", "condition_names")

    def __init__(self, names, condition_names):
        self.names, self.condition_names = names, condition_names

    def __getitem__(self, key):
        if key.startswith("c_"):
            key = key[2:]
            if key in self.condition_names:
                return self.condition_names[key]
        return self.names.get(key, key)


def python_source(text: str, names=None, condition_names=None) -> str:
    """The formula as Python source over floats or Values: where() becomes `x if c else
    y` (one branch evaluated), whole numbers become floats, and each operand name is
    replaced by names[operand] (source text; default: the name itself); inside a
    where's condition by condition_names[operand] (default: as outside).

    The engine's methods and compile()'s code are both written with this, which is why
    their numbers agree bit for bit.
    """
    return _python_template(text).format_map(_Fill(names or {}, condition_names or {}))


class _Rename(ast.NodeTransformer):
    """Operands -> {slots}; numbers put in; a where() whose condition became a constant
    -> the branch it picks; with display, fsum((t_1, t_2)) -> t_1 + t_2 and fsum(t_i)
    -> sum(t_i), as a reader writes a sum."""

    def __init__(self, names, numbers, display, write_number):
        self.names, self.numbers, self.display = names, numbers, display
        self.write_number = write_number

    def visit_Name(self, node):
        if node.id in self.numbers:
            return ast.copy_location(
                ast.parse(self.write_number(self.numbers[node.id]), mode="eval").body, node)
        if node.id in self.names:
            return ast.Name(id=f"__slot_{node.id}__", ctx=ast.Load())
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if not isinstance(node.func, ast.Name):
            return node
        if node.func.id == "where" and len(node.args) == 3:
            try:
                test = eval(compile(ast.Expression(node.args[0]), "<cond>", "eval"),  # noqa: S307
                            {"__builtins__": {}, "int": int})
            except Exception:
                return node
            return node.args[1] if test else node.args[2]
        if self.display and node.func.id == SUM_HELPER and len(node.args) == 1:
            terms = node.args[0]
            if isinstance(terms, ast.Tuple):
                total = terms.elts[0]
                for term in terms.elts[1:]:
                    total = ast.BinOp(left=total, op=ast.Add(), right=term)
                return total
            node.func = ast.Name(id="sum", ctx=ast.Load())
        return node


def rename(text: str, names=None, numbers=None, display=False,
           write_number=number_text) -> str:
    """The formula text with operands renamed: names maps an operand to any text (a
    node's name such as L1.n1.w1 or (w*x), or an array's source; put in as it is);
    numbers maps a parameter or operand to its value, put in as a number (written by
    write_number), after which a where() it decides becomes its branch. display: sums
    written as a reader writes them (fsum((p, q)) as p + q).

    The one way the table's formulas are renamed: for the step text, the legend, the
    local derivatives shown on the pictures, an indexed operand's index (w_i -> w_3)
    and the batch compile's array code.
    """
    names = names or {}
    tree = _Rename(names, numbers or {}, display, write_number).visit(
        copy.deepcopy(_tree(text)))
    source = ast.unparse(ast.fix_missing_locations(tree))
    if not names:
        return source
    return _SLOT.sub(lambda m: names[m.group(1)], source)


@functools.lru_cache(maxsize=None)
def _code(text: str):
    return compile(ast.Expression(body=_tree(text)), f"<formula {text}>", "eval")


def evaluate(text: str, namespace: dict):
    """Evaluate formula text with `namespace` giving every name it uses: the operands
    (a, b, out, n) and the vocabulary (exp, log, ..., where). Nothing else is visible.

    E.g. evaluate(OPS["tanh"].derivatives[0], {"out": 0.5}) == 0.75, or over numpy:
    evaluate(text, dict(vocabulary.backend("numpy"), a=array)).
    """
    return eval(_code(text), {"__builtins__": {}}, namespace)  # noqa: S307 - our own text


# ---------------------------------------------------------------- the declarations

def _declare(*args, **kwargs):
    return register(Op(*args, **kwargs))


_declare("+", "a + b", {"a": "1", "b": "1"}, method="__add__", reflected="__radd__", stem="add",
         doc="sum")
_declare("-", "a - b", {"a": "1", "b": "-1"}, method="__sub__", reflected="__rsub__", stem="sub",
         doc="difference")
_declare("*", "a * b", {"a": "b", "b": "a"}, method="__mul__", reflected="__rmul__", stem="mul",
         doc="product")
_declare("/", "a / b", {"a": "1 / b", "b": "-out / b"}, method="__truediv__", stem="div",
         reflected="__rtruediv__", doc="quotient",
         checks=[Check("b == 0", ZeroDivisionError, "division by zero: {a} / {b}")])
_declare("neg", "-a", {"a": "-1"}, symbol="-", method="__neg__", finite=True, doc="negation")
_declare("**n", "a ** n", {"a": "where(n == 0, 0, n * a ** (n - 1))"}, symbol="**",
         method="_pow_constant", stem="pow",
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
         method="_pow_value", reflected="__rpow__", stem="pow", doc="a power whose exponent is a Value",
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
_declare("wsum", "fsum(w_i * x_i) + b", {"w_i": "x_i", "x_i": "w_i", "b": "1"},
         symbol="Σwx+b", nary=True, stem="net", batch_layout="layer",
         doc="a neuron's net input: weights, inputs and bias in one node")
_declare("sum", "fsum(a_i)", {"a_i": "1"}, symbol="Σ", nary=True, stem="total",
         batch_layout="total",
         doc="the sum of many terms")


def as_markdown() -> str:
    """The operation table as Markdown, for the docs."""
    rows = ["| op | out = | local derivatives | in expressions |", "|---|---|---|---|"]
    for info in OPS.values():
        if info.user:
            continue
        derivs = ", ".join(f"d out/d{name} = {formula}"
                           for name, formula in zip(info.operands, info.derivatives))
        forward = rename(info.forward, display=True) if isinstance(info.forward, str) \
            else info.forward
        rows.append(f"| `{info.name}` | `{forward}` | `{derivs}` | "
                    f"{'`' + info.function + ('(x, y)`' if info.arity == 2 else '(x)`') if info.function else ''} |")
    return "\n".join(rows)
