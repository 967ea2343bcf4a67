"""The whole engine: a `Value` node, its operations, and `backward()`.

A Value remembers which Values it was computed from (`parents`) and, computed right
then in the forward pass, how much it changes when each of them changes
(`local_grads[i]` = d self / d parents[i]). `backward()` then needs no knowledge of any
operation: it walks the graph from the output back to the inputs and applies the chain
rule, dL/dparent += dL/dnode * dnode/dparent. That loop is `Value.backward` below.

Each operation is one method; the `@op` line above it records the same formulas as text
in the table in `ops.py`, which the step-through, the pictures and the compiler read.
"""

from __future__ import annotations

import gc
import math

from .ops import op, relu as _relu, sigmoid as _sigmoid, softplus as _softplus

__all__ = ["Value", "topological_order", "weighted_sum", "value_sum", "paused_gc"]

_INF = math.inf


def _describe(x) -> str:
    return f"{x!r} ({type(x).__name__})"


def _check_data(data, what="Value"):
    """The float a user's number stands for, or a one-line error saying what is wrong."""
    if type(data) is float and data - data == 0.0:
        return data  # the common case first: the Real check below is slow (an ABC)
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise TypeError(f"{what} needs an int or float, got {_describe(data)}; "
                        "convert it with float(...)")
    try:
        data = float(data)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{what} needs a finite number, got an int of {len(str(abs(data)))} "
                         "digits, too large for a float") from None
    if data != data or data in (_INF, -_INF):
        raise ValueError(f"{what} needs a finite number, got {data!r}")
    return data


def _overflow(op_name, *operands):
    shown = ", ".join(repr(x) for x in operands[:4])
    if len(operands) > 4:
        shown += f", ... ({len(operands)} operands)"
    return OverflowError(f"{op_name}: the result of {op_name} on {shown} is too large for a float")


class Value:
    """A scalar in a computation graph, with its gradient."""

    __slots__ = ("data", "grad", "parents", "local_grads", "op", "label")

    def __init__(self, data, label=""):
        self.data = _check_data(data)
        self.grad = 0.0
        self.parents = ()
        self.local_grads = ()
        self.op = ""
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {_describe(label)}")
        self.label = label

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        op_name = f", op={self.op!r}" if self.op else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{op_name}{label})"

    # ----------------------------------------------------------------- operations
    # Each method computes its result and the local derivatives from plain floats and
    # hands both to _node. A plain number operand becomes a constant leaf, so the graph
    # shows it and parents/local_grads stay the same length.

    @op("+", "a + b", a="1", b="1")
    def __add__(self, other):
        other = other if type(other) is Value else _constant(other, "+")
        out = self.data + other.data
        if out - out != 0.0:  # inf - inf is nan: the sum overflowed
            raise _overflow("+", self.data, other.data)
        return _node(out, (self, other), _ONE_ONE, "+")

    @op("-", "a - b", a="1", b="-1")
    def __sub__(self, other):
        other = other if type(other) is Value else _constant(other, "-")
        out = self.data - other.data
        if out - out != 0.0:
            raise _overflow("-", self.data, other.data)
        return _node(out, (self, other), _ONE_MINUS_ONE, "-")

    @op("*", "a * b", a="b", b="a")
    def __mul__(self, other):
        other = other if type(other) is Value else _constant(other, "*")
        a, b = self.data, other.data
        out = a * b
        if out - out != 0.0:
            raise _overflow("*", a, b)
        return _node(out, (self, other), (b, a), "*")

    @op("/", "a / b", a="1 / b", b="-a / b**2")
    def __truediv__(self, other):
        other = other if type(other) is Value else _constant(other, "/")
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"/: division by zero: {a!r} / {b!r}")
        out = a / b
        d_a, d_b = 1.0 / b, -out / b
        if d_a - d_a != 0.0 or d_b - d_b != 0.0:  # a tiny b: 1/b or a/b^2 overflowed
            raise _overflow("/", a, b)
        return _node(out, (self, other), (d_a, d_b), "/")

    @op("neg", "-a", a="-1", symbol="-")
    def __neg__(self):
        return _node(-self.data, (self,), _MINUS_ONE, "neg")

    @op("**n", "a ** n", a="n * a**(n - 1)", symbol="**",
        doc="a power with a constant exponent n (a plain number)")
    def _pow_constant(self, n):
        a = self.data
        out = _power(a, n, "**")
        if n == 0.0:
            local = 0.0
        elif a == 0.0 and n < 1.0:
            raise ValueError(f"**: the derivative of a**{n!r} is infinite at a=0.0; "
                             "keep the base away from 0")
        else:
            local = _power_derivative(a, n, n)
        # Integral exponents print as "**2"; others keep repr so the op string is exact.
        exponent = repr(int(n)) if n == int(n) and abs(n) < 1e15 else repr(n)
        return _node(out, (self,), (local,), "**" + exponent)

    @op("**", "a ** b", a="b * a**(b - 1)", b="out * log(a)",
        doc="a power whose exponent is a Value")
    def _pow_value(self, other):
        a, b = self.data, other.data
        out = _power(a, b, "**")
        if a < 0.0:
            raise ValueError(f"**: d(a**b)/db = a**b * ln(a) is undefined for the negative "
                             f"base a={a!r}; use a plain number as the exponent")
        if a == 0.0:
            if b < 1.0:
                raise ValueError(f"**: the derivative of a**{b!r} is infinite at a=0.0; "
                                 "keep the base away from 0")
            d_b = 0.0  # a**b * ln(a) -> 0 as a -> 0+ for b > 0
        else:
            d_b = out * math.log(a)
        d_a = _power_derivative(a, b, b)
        if d_b - d_b != 0.0:
            raise OverflowError(f"**: its derivative a**b * ln(a) at a={a!r}, b={b!r} is too "
                                "large for a float")
        return _node(out, (self, other), (d_a, d_b), "**")

    def __pow__(self, exponent):
        if type(exponent) is Value:
            return self._pow_value(exponent)
        return self._pow_constant(_check_data(exponent, "** exponent"))

    @op("exp", "exp(a)", a="out")
    def exp(self):
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp: exp({self.data!r}) is too large for a float "
                                "(inputs above 709.78 overflow)") from None
        return _node(out, (self,), (out,), "exp")

    @op("log", "log(a)", a="1 / a")
    def log(self):
        a = self.data
        if a <= 0.0:
            raise ValueError(f"log: log is only defined for positive numbers, got {a!r}")
        local = 1.0 / a
        if local == _INF:
            raise OverflowError(f"log: its derivative 1/a at a={a!r} is too large for a float; "
                                "keep the input away from 0")
        return _node(math.log(a), (self,), (local,), "log")

    @op("tanh", "tanh(a)", a="1 - out**2")
    def tanh(self):
        out = math.tanh(self.data)  # saturates to +-1.0, never overflows
        return _node(out, (self,), (1.0 - out * out,), "tanh")

    @op("sigmoid", "sigmoid(a)", a="out * (1 - out)", symbol="σ")
    def sigmoid(self):
        out = _sigmoid(self.data)
        return _node(out, (self,), (out * (1.0 - out),), "sigmoid")

    @op("relu", "relu(a)", a="1 if a > 0 else 0")
    def relu(self):
        a = self.data
        return _node(_relu(a), (self,), _ONE if a > 0.0 else _ZERO, "relu")

    @op("softplus", "log(1 + exp(a))", a="sigmoid(a)")
    def softplus(self):
        """log(1 + e^a), computed so that it never overflows (see ops.softplus)."""
        a = self.data
        return _node(_softplus(a), (self,), (_sigmoid(a),), "softplus")

    # Reflected forms keep the operands in the order the user wrote them.
    def __radd__(self, other):
        return _constant(other, "+") + self

    def __rsub__(self, other):
        return _constant(other, "-") - self

    def __rmul__(self, other):
        return _constant(other, "*") * self

    def __rtruediv__(self, other):
        return _constant(other, "/") / self

    def __rpow__(self, other):
        return _constant(other, "**")._pow_value(self)

    # ------------------------------------------------------------- the chain rule
    def backward(self):
        """Fill in d self / d node as `.grad` on every node of the graph."""
        # Non-leaf grads show this pass only (the ordering zeroes them); leaves accumulate.
        order = _operation_order(self)
        if self.parents:
            self.grad = 1.0
        else:
            self.grad += 1.0
        with paused_gc():
            for node in reversed(order):
                upstream = node.grad
                if upstream == 0.0:
                    continue  # every contribution would be zero
                # Chain rule: dL/dparent += dL/dnode * dnode/dparent.
                parents, local_grads = node.parents, node.local_grads
                if len(parents) == 2:  # most nodes: the loop below unrolled, twice as fast
                    parents[0].grad += local_grads[0] * upstream
                    parents[1].grad += local_grads[1] * upstream
                else:
                    for parent, local in zip(parents, local_grads):
                        parent.grad += local * upstream

    # ------------------------------------------------------------------- display
    def _repr_mimebundle_(self, include=None, exclude=None):
        """Jupyter shows a Value as the picture of its graph (text if it cannot)."""
        bundle = {"text/plain": repr(self)}
        try:
            from visualize import draw_graph
            graph = draw_graph(self)
            bundle["image/svg+xml"] = graph.pipe(format="svg", encoding="utf-8", quiet=True)
        except Exception as error:  # the text form is still useful without graphviz
            bundle["text/plain"] += f"\n(no picture: {error})"
        return bundle


_new = object.__new__
_ONE, _ZERO, _MINUS_ONE = (1.0,), (0.0,), (-1.0,)
_ONE_ONE, _ONE_MINUS_ONE = (1.0, 1.0), (1.0, -1.0)


def _node(data, parents, local_grads, op_name):
    """A result node; skips __init__'s checks because the operation made the data."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.parents = parents
    out.local_grads = local_grads
    out.op = op_name
    out.label = ""
    return out


def _constant(x, op_name):
    """A plain number used in an operation, as a leaf (errors name the operation)."""
    if type(x) is float and x - x == 0.0:
        return _node(x, (), (), "")  # the common case: a finite float needs no checks
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{op_name}: cannot combine a Value with {_describe(x)}; "
                        "use an int, float or Value")
    return _node(_check_data(x, f"{op_name} operand"), (), (), "")


def _power_derivative(a, n, factor):
    """factor * a**(n - 1), or an error that says it is the derivative that overflowed."""
    try:
        local = factor * _power(a, n - 1.0, "**")
    except OverflowError:
        local = math.inf
    if local - local != 0.0:
        raise OverflowError(f"**: its derivative {factor!r} * a**({n!r} - 1) at a={a!r} is too "
                            "large for a float; keep the base away from 0")
    return local


def _power(a, n, op_name):
    if a < 0.0 and n != int(n):
        raise ValueError(f"{op_name}: a negative base to a non-integer power is not a real "
                         f"number: {a!r} ** {n!r}")
    try:
        out = a ** n
    except ZeroDivisionError:
        raise ZeroDivisionError(f"{op_name}: 0.0 to the negative power {n!r} "
                                "divides by zero") from None
    except OverflowError:
        raise _overflow(op_name, a, n) from None
    if out - out != 0.0:
        raise _overflow(op_name, a, n)
    return out


@op("wsum", "sum(w_i * x_i) + b", w_i="x_i", x_i="w_i", b="1", symbol="Σwx+b",
    doc="a neuron's net input: weights, inputs and bias in one node")
def weighted_sum(weights, inputs, bias, *, checked=False):
    """sum(w_i * x_i) + b as one node with parents (w_1..w_k, x_1..x_k, b).

    It is exactly what a neuron computes before its activation, with the local
    derivatives of the textbook: d net/d w_i = x_i, d net/d x_i = w_i, d net/d b = 1.
    One node instead of 2k makes networks several times faster and their graphs smaller.
    `checked=True` promises that weights and inputs are equally long tuples of Values
    and bias a Value (nn's layers check a sample's inputs once for all their neurons).
    """
    if not checked:
        weights = tuple(w if type(w) is Value else _constant(w, "wsum") for w in weights)
        inputs = tuple(x if type(x) is Value else _constant(x, "wsum") for x in inputs)
        if len(weights) != len(inputs):
            raise ValueError(f"wsum: {len(weights)} weights but {len(inputs)} inputs; "
                             "give one weight per input")
        if type(bias) is not Value:
            bias = _constant(bias, "wsum")
    ws = [w.data for w in weights]
    xs = [x.data for x in inputs]
    try:
        out = math.fsum(map(float.__mul__, ws, xs)) + bias.data
    except OverflowError:  # fsum's own message does not say which operation
        raise _overflow("wsum", *ws, *xs) from None
    if out - out != 0.0:
        raise _overflow("wsum", *ws, *xs)
    return _node(out, weights + inputs + (bias,), (*xs, *ws, 1.0), "wsum")


@op("sum", "a_1 + a_2 + ... + a_k", a_i="1", symbol="Σ", doc="the sum of many terms")
def value_sum(terms):
    """The sum of many Values (or numbers) as one node, each local derivative 1."""
    parents = tuple(t if type(t) is Value else _constant(t, "sum") for t in terms)
    if not parents:
        raise ValueError("sum: needs at least one term")
    try:
        out = math.fsum(p.data for p in parents)
    except OverflowError:
        raise _overflow("sum", *(p.data for p in parents)) from None
    if out - out != 0.0:
        raise _overflow("sum", *(p.data for p in parents))
    return _node(out, parents, (1.0,) * len(parents), "sum")


def topological_order(root: Value) -> list[Value]:
    """Every node reachable from `root` once, each after all of its parents.

    Depth first with an explicit stack, so the depth of the graph is not limited by
    Python's recursion limit. A node is pushed once to be expanded and pushed again,
    beneath its parents, to be emitted after them.
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order needs a Value, got {_describe(root)}")
    order = []
    emitted = set()
    expanded = set()
    stack = [root]
    with paused_gc():
        while stack:
            node = stack.pop()
            if node in emitted:
                continue
            if node in expanded:
                emitted.add(node)
                order.append(node)
                continue
            expanded.add(node)
            stack.append(node)
            for parent in node.parents:
                if parent not in expanded:
                    stack.append(parent)
    return order


def _operation_order(root: Value) -> list[Value]:
    """The non-leaf nodes under `root`, each after its parents, their grads set to 0.0.

    backward() needs no leaves in its order (they only receive gradient) and zeroes every
    non-leaf grad anyway, so that zero is the visited mark: a new float object 0.0 for
    "expanded" and another for "emitted", told apart by identity. No sets, nothing stored
    per node beyond the grad it gets anyway. Otherwise as topological_order.
    """
    expanded, emitted = float(0), float(0)  # new objects, distinct from every grad
    order = []
    stack = [root] if root.parents else []
    while stack:
        node = stack.pop()
        mark = node.grad
        if mark is emitted:
            continue
        if mark is expanded:
            node.grad = emitted
            order.append(node)
            continue
        node.grad = expanded
        stack.append(node)
        for parent in node.parents:
            if parent.parents and parent.grad is not emitted:
                stack.append(parent)
    return order


class paused_gc:
    """Pause Python's cyclic garbage collector inside the block.

    Graph nodes hold no reference cycles, so the collector never frees any of them,
    yet as a graph grows it re-scans all of them again and again. Pausing it while a
    big graph is built or walked is safe; it is switched back on afterwards.
    """

    __slots__ = ("was_enabled",)

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc_info):
        if self.was_enabled:
            gc.enable()
        return False
