"""The engine's operations, written from the op table: one method per declared op.

For each row of the table (ops.py) this module writes the Python source of a Value
method from the row's formula text (with ops.python_source, which compile() uses too,
so their numbers agree bit for bit), runs it once and attaches it to Value: for `*`,

    def __mul__(self, other):
        a, b = self.data, other.data        (a plain number stays a float: a constant)
        out = a * b                         # the forward formula
        d_a = b                             # d out / d a
        d_b = a                             # d out / d b
        node = a Value with data out, parents (self, other), local_grads (d_a, d_b)

plus the checks that make bad math an error naming the operation
(`print(methods.method_source(OPS["log"]))` shows one). `declare` adds a user's row and
its method; `applier(op)` is the function applying any op (the n-ary sums included) to
Values or numbers, which the parser, grad(create_graph=True) and compile()'s replay use.
"""

from __future__ import annotations

from .engine import (NARY_FUNCTIONS, Constant, Value, as_constant, as_operand, overflow_error,
                     value_sum)
from .ops import (OPS, SUM_HELPER, Op, expand, number_text, op_info, python_source, register,
                  unregister)
from .vocabulary import FLOAT_FUNCTIONS, VALUE_FUNCTIONS, float_where

__all__ = ["declare", "undeclare", "applier", "maximum", "minimum", "method_source"]

_INF, _NAN = float("inf"), float("nan")
_FAILURES = (ArithmeticError, ValueError)  # what a formula raises where it is not defined
_new = object.__new__  # a node without __new__'s checks: the method made its number


def _operand_names(info):
    return info.operands + ((info.parameter,) if info.parameter else ())


def _domain_error(info, check, **operands):
    shown = {k: number_text(v) if k == info.parameter else repr(v) for k, v in operands.items()}
    message = check.message.format_map(dict({"a": None, "b": None, "n": None}, **shown))
    return check.error(f"{info.prefix}: {message}")


def _derivative_overflow(info, index, operands):
    name = info.prefix
    operand = info.operands[index]
    formula = info.derivatives[index]
    formula = formula if isinstance(formula, str) else f"d{name}/d{operand}"
    values = ", ".join(f"{k}={v!r}" for k, v in zip(_operand_names(info), operands))
    return OverflowError(f"{name}: its derivative d out/d{operand} = {formula} at {values} "
                         "is too large for a float; keep the inputs away from where it "
                         "blows up")


def _formula_call(info, which, operands):
    """Source calling a user's Python function instead of formula text."""
    return f"_fn_{which}({', '.join(operands)})"


def _plain(text) -> bool:
    """A derivative that is an operand, the result or a number: nothing can fail."""
    if not isinstance(text, str):
        return False
    try:
        float(text)
        return True
    except ValueError:
        return text in ("a", "b", "out", "-a", "-b", "-out")


def method_source(info: Op, reflected=False) -> str:
    """The Python source of the engine's method for one declared operation.

    `reflected`: the method Python calls for `number <op> value` (__radd__, ...), with
    the operands swapped back into the order written.
    """
    binary = info.arity == 2
    names = _operand_names(info)
    lines = [f"def method(self{', other' if binary else ''}"
             f"{', ' + info.parameter if info.parameter else ''}):"]
    if binary:
        # The operand that may be a plain number: kept as its float (a constant, no
        # node of its own); a Value keeps its node.
        this, that = ("b", "a") if reflected else ("a", "b")
        left, right = ("other", "self") if reflected else ("self", "other")
        lines += [f"    {this} = self.data",
                  f"    grad_{this} = type(self) is not Constant",
                  "    if type(other) is Value:",
                  f"        {that} = other.data",
                  f"        grad_{that} = True",
                  "    elif type(other) is float and other - other == 0.0:",
                  f"        {that} = other",
                  f"        grad_{that} = False",
                  "    else:",
                  "        other = as_operand(other, OP_NAME)",
                  f"        {that}, grad_{that} = ((other, False) if type(other) is float",
                  f"                         else (other.data, other.requires_grad))"]
    else:
        left, right = "self", "None"
        lines.append("    a = self.data")
        lines.append("    grad_a = type(self) is not Constant")
    args = ", ".join(f"{k}={k}" for k in names)
    for i, check in enumerate(info.checks):
        lines.append(f"    if {python_source(check.condition)}:")
        lines.append(f"        raise _domain_error(INFO, INFO.checks[{i}], {args})")
    forward = (python_source(info.forward) if isinstance(info.forward, str)
               else _formula_call(info, "forward", names))
    if info.finite:  # declared never to overflow: no checks to pay for
        lines.append(f"    out = {forward}")
    else:
        lines += ["    try:", f"        out = {forward}",
                  "    except _FAILURES as error:",
                  f"        raise _overflow(INFO, ({', '.join(names)},), error) from None",
                  "    if out - out != 0.0:",
                  f"        raise _overflow(INFO, ({', '.join(names)},))"]
    for i, operand in enumerate(info.operands):
        text = info.derivatives[i]
        formula = (python_source(text) if isinstance(text, str)
                   else _formula_call(info, f"d{i}", names + ("out",)))
        if info.finite or _plain(text):  # an operand, out or a number: always finite
            lines.append(f"    d_{operand} = {formula}")
            continue
        lines.append(f"    if grad_{operand}:")
        for j, check in enumerate(info.derivative_checks.get(operand, ())):
            lines.append(f"        if {python_source(check.condition)}:")
            lines.append(f"            raise _domain_error(INFO, "
                         f"INFO.derivative_checks[{operand!r}][{j}], {args})")
        lines += ["        try:", f"            d_{operand} = {formula}",
                  "        except _FAILURES:", f"            d_{operand} = _INF",
                  f"        if d_{operand} - d_{operand} != 0.0:",
                  f"            raise _derivative_overflow(INFO, {i}, ({', '.join(names)},))",
                  "    else:  # a constant: its derivative is shown, never needed",
                  "        try:", f"            d_{operand} = {formula}",
                  "        except _FAILURES:", f"            d_{operand} = _NAN"]
    op_name = f"OP_NAME + number_text({info.parameter})" if info.parameter else "OP_NAME"
    needs_grad = "grad_a or grad_b" if binary else "grad_a"
    lines += [f"    if {needs_grad}:",
              "        node = _new(Value)",
              "        node.grad = 0.0",
              "    else:",
              "        node = _new(Constant)",
              "    node.data = out",
              f"    node._a = {left}",
              "    node._da = d_a",
              f"    node._b = {right}",
              f"    node._db = {'d_b' if binary else 'None'}",
              f"    node._op_label = {op_name}",
              "    return node"]
    return "\n".join(lines) + "\n"


def _install(info: Op):
    """Write the op's methods from its declaration and attach them to Value."""
    if info.nary:
        return None
    namespace = dict(FLOAT_FUNCTIONS, Value=Value, Constant=Constant, _new=_new,
                     as_operand=as_operand, number_text=number_text,
                     _FAILURES=_FAILURES, _INF=_INF, _NAN=_NAN, int=int,
                     _domain_error=_domain_error, _overflow=overflow_error,
                     _derivative_overflow=_derivative_overflow, INFO=info,
                     OP_NAME=info.prefix)
    if not isinstance(info.forward, str):
        namespace["_fn_forward"] = info.forward
    for i, text in enumerate(info.derivatives):
        if not isinstance(text, str):
            namespace[f"_fn_d{i}"] = text

    def make(reflected):
        exec(compile(method_source(info, reflected), f"<operation {info.name}>", "exec"),
             namespace)
        return namespace["method"]

    method = make(False)
    method.__name__ = method.__qualname__ = info.method or info.name
    method.__doc__ = info.doc
    if info.method:
        setattr(Value, info.method, method)
    if info.reflected:
        reflected = make(True)
        reflected.__name__ = reflected.__qualname__ = info.reflected
        reflected.__doc__ = info.doc
        setattr(Value, info.reflected, reflected)
    return method


def _apply_function(method, name):
    def apply(*operands):
        first = operands[0] if isinstance(operands[0], Value) else as_constant(operands[0], name)
        return method(first, *operands[1:])
    return apply


def _apply_nary(info):
    """The engine's own function for an n-ary row, called with a node's parents in the
    node's order (weighted_sum takes them grouped: weights, inputs, bias)."""
    function = NARY_FUNCTIONS[info.name]

    def apply(*parents):
        return function(*expand(info.name, len(parents)).grouped(parents))
    return apply


def _attach(info):
    """Write the op's methods and keep the function applying it on its row (and, for an
    expression function, in the Values meaning of the vocabulary)."""
    if info.nary:
        info.apply = _apply_nary(info)
    else:
        info.apply = _apply_function(_install(info), info.name)
    if info.function:
        VALUE_FUNCTIONS[info.function] = info.apply
    return info.apply


def applier(op_name: str):
    """The function that applies the op a node stores as `op_name` to Values or numbers,
    taking the node's parents in order: applier("*")(x, 2.0), applier("**3")(x),
    applier(net.op)(w1, w2, x1, x2, b) for a weighted sum node `net`."""
    info = op_info(op_name)
    if info.parameter:
        value = expand(op_name, info.arity).bindings[info.parameter]
        return lambda *operands: info.apply(*operands, value)
    return info.apply


def declare(name, forward, derivatives, symbol=None, function=None, method=None,
            checks=(), derivative_checks=None, doc=""):
    """Declare a new operation; returns a function that applies it to Values or numbers.

        softsign = declare("softsign", forward="a / (1 + abs(a))",
                           derivatives={"a": "1 / (1 + abs(a)) ** 2"})
        y = softsign(x)

    forward and each derivative are formula text over a (and b), out and the vocabulary
    (exp, log, sin, cos, tanh, sqrt, abs, sigmoid, softplus, relu, where), or plain
    Python functions of the operands' floats (derivatives also get `out` last); with
    text, the op also works in compile(), in grad(create_graph=True) and in SymPy.
    It then works everywhere a built-in op does: backward, gradcheck, trace, pictures,
    step-through, compile. `function` names it in expressions (`chainrule grad`);
    `method` also attaches it to Value (`x.softsign()`).
    """
    if not isinstance(derivatives, dict):
        if callable(derivatives) or isinstance(derivatives, str):
            derivatives = [derivatives]
        derivatives = dict(zip("ab", derivatives))
    if method and hasattr(Value, method):
        raise ValueError(f"Value already has a method called {method!r}")
    info = register(Op(name, forward, derivatives, symbol=symbol, function=function,
                       method=method, checks=checks, derivative_checks=derivative_checks,
                       doc=doc or f"declared by the user: out = {forward}", user=True))
    return _attach(info)


def undeclare(name):
    """Remove a user's declaration (and its Value method): mostly for tests."""
    info = unregister(name)
    if info.function and VALUE_FUNCTIONS.get(info.function) is info.apply:
        del VALUE_FUNCTIONS[info.function]
    if info.method and info.user and info.method in Value.__dict__:
        delattr(Value, info.method)
    return info


for _info in list(OPS.values()):
    _attach(_info)
# `abs` is declared as __abs__ so that Python's abs(x) works; x.abs() is the same method,
# spelled like x.sin() and x.sqrt() (the API names both).
Value.abs = Value.__abs__
VALUE_FUNCTIONS.update({"where": float_where, SUM_HELPER: value_sum})
maximum = applier("maximum")
minimum = applier("minimum")
maximum.__doc__ = "maximum(a, b): the larger, as a node; at a tie each side gets half."
minimum.__doc__ = "minimum(a, b): the smaller, as a node; at a tie each side gets half."
