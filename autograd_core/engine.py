"""The engine: a `Value` node and `backward()`, the chain rule applied in one loop.

A Value remembers which Values it was computed from (`parents`) and, computed right
then in the forward pass, how much it changes when each of them changes
(`local_grads[i]` = d self / d parents[i]). `backward()` then needs no knowledge of any
operation: it walks the graph from the output back to the inputs and applies the chain
rule, dL/dparent += dL/dnode * dnode/dparent. That loop is `Value.backward` below.

Every operation is declared once, as formula text, in the table in `ops.py`; for
multiplication the declaration is

    Op("*", forward="a * b", derivatives={"a": "b", "b": "a"}, method="__mul__")

and the method the engine runs is written from it (methods.py writes it):

    def __mul__(self, other):
        a, b = self.data, other.data
        out = a * b                 # the forward formula
        d_a = b                     # d out / d a
        d_b = a                     # d out / d b
        node = Value with data=out, parents (self, other), local_grads (d_a, d_b), op "*"

plus the checks that make bad math an error naming the operation. After `backward()`
come the details: how a node stores its parents (slots, not tuples: a graph of a
million nodes fits in about 112 MB), constants, the graph walk, the checks on numbers
coming in and the n-ary sums (weighted_sum, value_sum), which are written by hand.
"""

from __future__ import annotations

import gc
import math
import numbers
import operator

from .ops import OPS
from .steps import ChainRule, NonFiniteGradientError

__all__ = ["Value", "topological_order", "weighted_sum", "value_sum", "paused_gc",
           "NonFiniteGradientError", "overflow_error", "as_operand", "as_constant", "MANY",
           "WSUM", "SUM", "NARY_FUNCTIONS"]


class Value:
    """A scalar in a computation graph, with its gradient.

    Value(x) is a variable: it gets a gradient. Value(x, requires_grad=False) is a
    constant: drawn in pictures, but it receives no gradient and no chain-rule step (a
    plain number used in an operation becomes one). A result needs a gradient when any
    of its parents does.

    How a node keeps its parents and local derivatives (the `parents`, `local_grads`,
    `op` and `label` properties below read them back in the public form). Most nodes
    have one or two parents, so those get a slot each rather than two tuples per node:

        a leaf            _a = _b = None
        one parent        _a = the parent,        _da = d self / d _a,   _b = None
        two parents       _a, _da as above, and   _b, _db for the second
        many (wsum, sum)  _a = tuple of parents,  _da = tuple of derivatives,  _b = MANY
        _op_label         the op's name, or (op, label) for a labelled node

    A plain number in an operation (the 0.5 of x * 0.5) stays a float in _a or _b: a
    constant needs no gradient, so it costs no node until `.parents` is asked for, which
    then makes it a constant leaf (once, so the graph keeps its identity from then on).
    """

    __slots__ = ("data", "grad", "_a", "_da", "_b", "_db", "_op_label")
    # Per class, no per-node cost: Constant below says False. (The engine's own loops
    # ask `type(node) is Constant`, which is the same question, asked faster.)
    requires_grad = True
    __array_ufunc__ = None     # numpy scalars on the left defer to our reflected methods

    def __new__(cls, data, label="", requires_grad=True):
        # All of the constructor is here (no __init__): one Python call per leaf.
        if requires_grad is not True:
            if requires_grad is not False:
                raise TypeError(f"Value requires_grad must be True or False, got "
                                f"{_describe(requires_grad)}")
            cls = Constant
        node = _new(cls)
        node.data = data if type(data) is float and data - data == 0.0 else _check_data(data)
        if requires_grad:
            node.grad = 0.0
        node._a = node._da = node._b = node._db = None
        if type(label) is not str and not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {_describe(label)}")
        node._op_label = ("", label) if label else ""
        return node

    def __getnewargs__(self):
        return (self.data,)  # copy and pickle make their node through __new__ as well

    def backward(self):
        """Fill in d self / d node as `.grad` on every node that needs a gradient."""
        if type(self) is Constant:
            return  # a constant: nothing in its graph needs a gradient
        nodes, leaves = _walk(self)        # results, each after all of its parents
        for node in nodes:
            node.grad = 0.0                # intermediates show this pass only
        before = list(map(_grad_of, leaves))  # leaves accumulate across calls
        self.grad = 1.0 if self._a is not None else self.grad + 1.0
        with paused_gc():
            for node in reversed(nodes):
                upstream = node.grad
                if upstream == 0.0:
                    continue  # every contribution would be zero
                # Chain rule: dL/dparent += dL/dnode * dnode/dparent, for each parent
                # (the layout of _a, _da, _b, _db is in the class docstring).
                a, b = node._a, node._b
                if b is None:                  # one parent
                    a.grad += node._da * upstream
                elif b is not MANY:            # two parents; a float is a constant
                    if type(a) is not float:   # (and a constant node ignores it)
                        a.grad += node._da * upstream
                    if type(b) is not float:
                        b.grad += node._db * upstream
                else:                          # wsum, sum
                    for parent, local in zip(a, node._da):
                        parent.grad += local * upstream  # (a constant ignores it)
        if not _all_finite(leaves):            # inf or nan somewhere: find out where
            _careful_backward(self, nodes, leaves, before)

    # ---- the public form of the node's links (see the layout in the docstring)

    @property
    def parents(self):
        """The Values this one was computed from (a tuple; () for a leaf)."""
        a, b = self._a, self._b
        if b is None:
            return () if a is None else (a,)
        if b is MANY:
            return a
        if type(a) is float:
            a = self._a = _constant_leaf(a)
        if type(b) is float:
            b = self._b = _constant_leaf(b)
        return (a, b)

    @property
    def local_grads(self):
        """d self / d parents[i], computed in the forward pass (a tuple of floats)."""
        a, b = self._a, self._b
        if b is None:
            return () if a is None else (self._da,)
        if b is MANY:
            return self._da
        return (self._da, self._db)

    @local_grads.setter
    def local_grads(self, values):
        values = tuple(values)
        if len(values) != len(self.parents):
            raise ValueError(f"local_grads needs one number per parent "
                             f"({len(self.parents)}), got {len(values)}")
        if self._b is MANY:
            self._da = values
        elif values:
            self._da = values[0]
            if len(values) == 2:
                self._db = values[1]

    @property
    def op(self):
        """The operation that made this Value ("" for a leaf)."""
        op = self._op_label
        return op if type(op) is str else op[0]

    @op.setter
    def op(self, op):
        label = self.label
        self._op_label = (op, label) if label else op

    @property
    def label(self):
        """The name shown in pictures and step text ("" for none)."""
        op = self._op_label
        return "" if type(op) is str else op[1]

    @label.setter
    def label(self, label):
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {_describe(label)}")
        op = self._op_label
        if type(op) is not str:
            op = op[0]
        self._op_label = (op, label) if label else op

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        op_name = f", op={self.op!r}" if self.op else ""
        constant = ", constant" if not self.requires_grad else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{op_name}{label}{constant})"

    # The operations (__add__, __mul__, log, ...) are written from their declarations
    # by methods.py. The reflected forms keep the operands in the order written.

    def __pow__(self, exponent):
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        return self._pow_constant(_check_data(exponent, "** exponent"))

    # Comparisons look at .data and give a bool, for control flow (`if x > 0:`). `==`
    # and hash stay identity (object's, not redefined): Values are graph nodes, kept in
    # sets and dicts by the graph walks, and two nodes holding equal numbers are still
    # two nodes.
    def __lt__(self, other):
        return self.data < _compared(other, "<")

    def __le__(self, other):
        return self.data <= _compared(other, "<=")

    def __gt__(self, other):
        return self.data > _compared(other, ">")

    def __ge__(self, other):
        return self.data >= _compared(other, ">=")

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


class Constant(Value):
    """A Value that receives no gradient: `Value(x, requires_grad=False)`.

    Its grad is always 0.0 and ignores what is added to it, so backward() need not ask
    every parent whether it is a constant; the graph walks skip constants anyway.
    """

    __slots__ = ()
    requires_grad = False
    grad = property(lambda self: 0.0, lambda self, value: None,
                    doc="always 0.0: a constant receives no gradient")


# ------------------------------------------------------------------ the graph walk

def _walk(root: Value):
    """(results, leaves): the nodes under `root` that need a gradient. Each result comes
    after all of its parents; leaves are listed once each.

    The textbook depth-first topological sort, with an explicit stack (no recursion, so
    a chain of a million nodes works): a result is expanded once, and a marker pushed
    beneath its parents emits it when they are all done. Leaves have no parents to wait
    for: they are collected as met and made unique at the end. Constants (leaves,
    results computed from constants only, plain numbers kept in a node) are left out:
    no gradient flows into them. It reads the raw slots (the layout is in Value's
    docstring), so it makes no constant leaves; the two-parent case is written out
    because it is most nodes, and the names it uses are bound as locals because this
    loop is a third of backward()'s time.
    """
    if type(root) is Constant:
        return [], []
    if root._a is None:
        return [], [root]
    order, leaves, visited = [], [], set()
    stack = [root]
    pop, push, emit, leaf, seen = stack.pop, stack.append, order.append, leaves.append, \
        visited.add
    emit_marker, many, number, constant = _EMIT, MANY, float, Constant
    with paused_gc():
        while stack:
            node = pop()
            if node is emit_marker:
                emit(pop())  # every parent is in the order by now
                continue
            if node in visited:
                continue
            seen(node)
            push(node)
            push(emit_marker)
            a, b = node._a, node._b
            if b is many:  # a neuron's weights come again in every sample: ask first
                for parent in a:
                    if parent in visited or type(parent) is constant:
                        continue
                    if parent._a is None:
                        seen(parent)
                        leaf(parent)
                    else:
                        push(parent)
                continue
            if type(a) is not number and type(a) is not constant:
                if a._a is None:
                    leaf(a)
                elif a not in visited:
                    push(a)
            if b is not None and type(b) is not number and type(b) is not constant:
                if b._a is None:
                    leaf(b)
                elif b not in visited:
                    push(b)
    return order, list(dict.fromkeys(leaves))


def _order(root: Value) -> list:
    """Every node under `root` that needs a gradient, each after all of its parents
    (the leaves first)."""
    nodes, leaves = _walk(root)
    return leaves + nodes


_grad_of = operator.attrgetter("grad")


def _all_finite(leaves) -> bool:
    """True when every leaf's grad is finite (one sum in C; one by one if it overflows)."""
    try:
        total = math.fsum(map(_grad_of, leaves))
    except (OverflowError, ValueError):  # finite grads too big to add up, or inf - inf
        return all(g - g == 0.0 for g in map(_grad_of, leaves))
    return total - total == 0.0


_EMIT = object()  # on the stack: "the node beneath me is done"
MANY = object()   # in a node's _b: its parents and derivatives are tuples in _a, _da


def topological_order(root: Value) -> list:
    """Every node reachable from `root` once (constants too), each after its parents."""
    if not isinstance(root, Value):
        raise TypeError(f"topological_order needs a Value, got {_describe(root)}")
    order, expanded, emitted = [], set(), set()
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


# ------------------------------------------------------- gradients that are not finite

def _careful_backward(root, order, leaves, before):
    """Redo backward() with the careful walk (steps.py): assign its grads, or leave the
    leaves as they were before the call and raise an error naming the first step that
    went wrong."""
    walk = ChainRule(root, order, start=zip(leaves, before)).run()
    for node in order:
        if node.parents:
            node.grad = walk.grads.get(node, 0.0)
    error = walk.error("backward", leaves)
    if error is not None:
        for leaf, grad in zip(leaves, before):
            leaf.grad = grad
        raise error
    for leaf in leaves:
        leaf.grad = walk.grads[leaf]


# -------------------------------------------------------------- numbers coming in

def _describe(x) -> str:
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 3000:
        return f"an int of about {int(x.bit_length() * 0.30103) + 1} digits (int)"
    try:
        text = repr(x)
    except Exception:  # a repr that fails must not hide the real error
        text = object.__repr__(x)
    if len(text) > 80:
        text = text[:60] + "..."
    return f"{text} ({type(x).__name__})"


def _is_number(x) -> bool:
    """Integers and floating-point numbers of any library (numpy's too), as floats.

    Not bool (True + x is a bug, not a number), not Fraction (a rational converts to
    float inexactly), not Decimal or complex.
    """
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return False
    return isinstance(x, numbers.Integral) or not isinstance(x, numbers.Rational)


def _check_data(data, what="Value"):
    """The float a user's number stands for, or a one-line error saying what is wrong."""
    if type(data) is float and data - data == 0.0:
        return data  # the common case first: the Real check below is slow (an ABC)
    if not _is_number(data):
        raise TypeError(f"{what} needs an int or float, got {_describe(data)}; "
                        "convert it with float(...)")
    try:
        number = float(data)
    except OverflowError:  # an int beyond the float range
        bits = int(data).bit_length()
        digits = len(str(abs(int(data)))) if bits < 10000 else int(bits * 0.30103) + 1
        about = "" if bits < 10000 else "about "
        raise ValueError(f"{what} needs a finite number, got an int of {about}{digits} "
                         "digits, too large for a float (above about 1.8e308)") from None
    if number - number != 0.0:
        raise ValueError(f"{what} needs a finite number, got {number!r}")
    return number


def _compared(other, symbol):
    if isinstance(other, Value):
        return other.data
    return _check_data(other, f"{symbol}: comparing a Value")


_new = object.__new__


def _node(data, parents, local_grads, op_name, needs_grad=True, label=""):
    """A node with the n-ary layout (tuples of parents and local derivatives; the sums
    use it); skips __init__'s checks because the operation made the data."""
    if needs_grad:
        out = _new(Value)
        out.grad = 0.0
    else:
        out = _new(Constant)  # its grad is always 0.0
    out.data = data
    out._a = parents
    out._da = local_grads
    out._b = MANY
    out._db = None
    out._op_label = (op_name, label) if label else op_name
    return out


def _constant_leaf(x):
    """A constant leaf holding the float x (already checked)."""
    leaf = _new(Constant)
    leaf.data = x
    leaf._a = leaf._da = leaf._b = leaf._db = None
    leaf._op_label = ""
    return leaf


def as_constant(x, op_name):
    """A plain number used in an operation, as a constant leaf (errors name the op)."""
    if isinstance(x, Value):
        return x
    return _constant_leaf(as_operand(x, op_name))


def as_operand(x, op_name):
    """An operand as the ops keep it: a Value as it is, a number as its checked float."""
    if isinstance(x, Value):
        return x
    if not _is_number(x):
        raise TypeError(f"{op_name}: cannot combine a Value with {_describe(x)}; "
                        "use an int, float or Value")
    return _check_data(x, f"{op_name} operand")


# ------------------------------------------------------- overflow, named by the op

def _shown(*numbers_):
    shown = ", ".join(repr(x) for x in numbers_[:4])
    if len(numbers_) > 4:
        shown += f", ... ({len(numbers_)} operands)"
    return shown


def overflow_error(info, operands, error=None):
    """The error for an op whose result overflowed (or whose function failed)."""
    name = info.prefix
    if info.overflow_hint and len(operands) == 1:
        return OverflowError(f"{name}: {name}({operands[0]!r}) is too large for a float "
                             f"({info.overflow_hint})")
    if isinstance(error, ValueError) and not isinstance(error, OverflowError):
        return ValueError(f"{name}: not defined at {_shown(*operands)} ({error})")
    return OverflowError(f"{name}: the result of {name} on {_shown(*operands)} is too "
                         "large for a float")


# ------------------------------------------------------------------ the n-ary sums

# The op strings the n-ary sums store (their rows in ops.py say what they compute).
WSUM = "wsum"
SUM = "sum"


def weighted_sum(weights, inputs, bias, *, checked=False, label=""):
    """sum(w_i * x_i) + b as one node with parents (w_1..w_k, x_1..x_k, b).

    It is exactly what a neuron computes before its activation, with the local
    derivatives of the textbook: d net/d w_i = x_i, d net/d x_i = w_i, d net/d b = 1.
    One node instead of 2k makes networks several times faster and their graphs smaller.
    `checked=True` promises that weights and inputs are equally long tuples of Values
    and bias a Value (nn's layers check a sample's inputs once for all their neurons).
    `label` labels the node.
    """
    if not checked:
        weights = tuple(w if type(w) is Value else as_constant(w, WSUM) for w in weights)
        inputs = tuple(x if type(x) is Value else as_constant(x, WSUM) for x in inputs)
        if len(weights) != len(inputs):
            raise ValueError(f"wsum: {len(weights)} weights but {len(inputs)} inputs; "
                             "give one weight per input")
        if type(bias) is not Value:
            bias = as_constant(bias, WSUM)
    ws = [w.data for w in weights]
    xs = [x.data for x in inputs]
    try:
        out = math.fsum(map(float.__mul__, ws, xs)) + bias.data
    except OverflowError:  # fsum's own message does not say which operation
        raise overflow_error(OPS[WSUM], ws + xs) from None
    if out - out != 0.0:
        raise overflow_error(OPS[WSUM], ws + xs)
    parents = weights + inputs + (bias,)
    needs_grad = type(bias) is not Constant or any(p.requires_grad for p in parents)
    return _node(out, parents, (*xs, *ws, 1.0), WSUM, needs_grad, label)


def value_sum(terms):
    """The sum of many Values (or numbers) as one node, each local derivative 1."""
    parents = tuple(t if type(t) is Value else as_constant(t, SUM) for t in terms)
    if not parents:
        raise ValueError("sum: needs at least one term")
    try:
        out = math.fsum(p.data for p in parents)
    except OverflowError:
        raise overflow_error(OPS[SUM], [p.data for p in parents]) from None
    if out - out != 0.0:
        raise overflow_error(OPS[SUM], [p.data for p in parents])
    needs_grad = any(p.requires_grad for p in parents)
    return _node(out, parents, (1.0,) * len(parents), SUM, needs_grad)


# The function computing each n-ary sum: methods.py applies a node's op again through these.
NARY_FUNCTIONS = {WSUM: weighted_sum, SUM: value_sum}


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
