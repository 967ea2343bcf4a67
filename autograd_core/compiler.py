"""Backprop as straight-line code: compile a built graph into one plain Python function.

`compile(root, inputs)` (compile_graph here) walks a graph once and writes Python source
with one assignment per forward operation and then one per chain-rule term, in the order
`backward()` applies them, taking every formula from the op table in `ops.py`. The result is fast
(no graph objects, no loops) and, printed, is the whole of backpropagation on one page:

    f = compile(loss, model.parameters())
    print(f.source)
    loss_value, grads = f([p.data for p in model.parameters()])

`inputs` are the leaves whose values change between calls (parameters, data points);
every other leaf is a constant, and its value at compile time is written into the code,
as are the values of operations computed from constants only. A graph of a new shape
(another batch size, another network) needs a new compile.
"""

from __future__ import annotations

import keyword
import re

from .engine import Value, _check_data, _describe, topological_order
from .methods import applier
from .naming import identifiers, node_names
from .ops import expand, op_info, python_source
from .vocabulary import backend

__all__ = ["compile_graph", "CompiledGraph", "checked_numbers", "literal", "Names"]

HEADER = """\
# Backpropagation as straight-line code, written by autograd_core.compile.
# Forward: one line per operation, computing each node from its parents.
# Backward: one line per chain-rule term, from the output back to the inputs:
#     d_parent += d_node * (d node / d parent)
# where d_x means d output / d x. That is all backprop is.
# (fsum is math.fsum, the exactly rounded sum the engine uses for its n-ary sums.)
# The `if fsum(...)` line stops when a value overflowed (v - v is nan for inf), as the
# engine would; the call then replays the graph in the engine for its error message.
"""


# Everything the generated code can see: the functions its formulas call (the float
# meaning of the vocabulary, which the engine's methods use too), no builtins.
_NAMESPACE = dict(backend("floats"), int=int, ArithmeticError=ArithmeticError)
# (and no variable is called sum: a reader would take it for the builtin)
_RESERVED = set(_NAMESPACE) | {"inputs", "forward_backward", sum.__name__}


class Names:
    """Unique identifiers made from labels: letters, digits and _ only, so a label can
    never put code into the source."""

    def __init__(self):
        self.taken = set(_RESERVED)
        self.counts = {}

    def new(self, label, stem):
        base = re.sub(r"[^0-9A-Za-z_]", "_", label).strip("_") if label else ""
        if not base:
            self.counts[stem] = self.counts.get(stem, 0) + 1
            base = f"{stem}{self.counts[stem]}"
        if base[0].isdigit():
            base = "v_" + base
        name, k = base, 1
        # The grad of x is d_x, so both must be free.
        while name in self.taken or "d_" + name in self.taken or keyword.iskeyword(name):
            k += 1
            name = f"{base}_{k}"
        self.taken.update((name, "d_" + name))
        return name


def literal(x) -> str:
    """A finite float as source (whole numbers without ".0", as op names print exponents;
    negative ones in parentheses so they fit anywhere); never the repr of a user object."""
    x = _check_data(float(x), "compile: a constant")
    text = repr(int(x)) if x == int(x) and abs(x) < 1e15 and x != 0.0 else repr(x)
    return f"({text})" if text.startswith("-") else text


def _user_function(function, extra):
    """A name under which generated code can call a user's Python function."""
    for name, known in extra.items():
        if known is function:
            return name
    name = f"_user_{len(extra) + 1}"
    extra[name] = function
    return name


class CompiledGraph:
    """A graph compiled to one Python function; call it with new input values.

    `f(values)` takes one float per input (in the order given to compile) and returns
    (output, [d output / d input for each input]). `f()` reads the inputs' current
    `.data` instead. `f.backward()` is the eager-style form: it reads `.data`, adds each
    gradient into the input's `.grad` (as `Value.backward()` does for leaves) and
    returns the output. `.source` is the generated code.
    """

    def __init__(self, source, inputs, root, order, watch=(), extra=None):
        self.source = source
        self.inputs = tuple(inputs)
        self.watched_values = []  # the watched nodes' values from the latest call
        self._watch = tuple(watch)
        self._watching = bool(watch)
        self._root, self._order = root, order
        namespace = dict(_NAMESPACE, __builtins__={}, **(extra or {}))
        exec(compile(source, "<autograd_core.compile>", "exec"), namespace)
        self._function = namespace["forward_backward"]

    def __repr__(self):
        return f"CompiledGraph({len(self.inputs)} inputs, {self.source.count(chr(10))} lines)"

    def __call__(self, values=None):
        values = self._check(values)
        try:
            if self._watching:
                out, grads, watched = self._function(values)
            else:
                out, grads = self._function(values)
        except (ArithmeticError, ValueError, TypeError):
            return self._replay(values)  # the engine's own error for the failing op
        if type(out) is not float or out - out != 0.0 or \
                any(g - g != 0.0 for g in grads):
            # inf, nan or a complex number somewhere: the engine says where, or gives
            # the finite answer (0 * inf from a branch that does not matter is 0)
            return self._replay(values)
        if self._watching:
            self.watched_values = watched
        return out, grads

    def backward(self):
        out, grads = self()
        for value, grad in zip(self.inputs, grads):
            value.grad += grad
        return out

    def _check(self, values):
        if values is None:
            return [v.data for v in self.inputs]
        try:
            values = list(values)
        except TypeError:
            raise TypeError(f"compiled graph: give a list of {len(self.inputs)} numbers, "
                            f"got {_describe(values)}") from None
        if len(values) != len(self.inputs):
            raise ValueError(f"compiled graph: expected {len(self.inputs)} input values (one "
                             f"per input given to compile), got {len(values)}; a graph of "
                             "another shape needs a new compile")
        return checked_numbers(values, self.inputs, "compiled graph: input")

    def _replay(self, values):
        """Run the graph through the engine on these values: it raises the engine's own
        error for the operation or chain-rule step that failed, or gives its answer.
        Leaves that are not inputs are constants, as in the compiled code."""
        from .functional import grad
        new = dict(zip(map(id, self.inputs), values))
        made = {}
        for node in self._order:
            if not node.parents:
                key = id(node)
                made[key] = Value(new.get(key, node.data), label=node.label, requires_grad=key in new)
                continue
            made[id(node)] = _eager(node, [made[id(p)] for p in node.parents])
        root = made[id(self._root)]
        inputs = [made[id(v)] for v in self.inputs]
        grads = grad(root, inputs)
        if self._watching:
            self.watched_values = [made[id(v)].data for v in self._watch]
        return root.data, grads


def _eager(node, parents):
    """The engine operation `node.op` applied to new parent Values."""
    return applier(node.op)(*parents)


def checked_numbers(values, leaves, what):
    """`values` (a list, changed in place) as floats, each checked as Value checks its
    number; a bad one is named by `what`, its position and its leaf's label."""
    for i, x in enumerate(values):
        if type(x) is not float or x - x != 0.0:  # the common case costs one test
            values[i] = _check_data(x, f"{what} {i} ({leaves[i].label or 'unlabelled'})")
    return values


def compile_graph(root: Value, inputs, watch=()):
    """Compile the graph of `root` into straight-line Python (see the module docstring).

    inputs: the leaf Values of the graph whose values change between calls, in the order
    the compiled function takes and returns them.
    watch: other nodes of the graph whose values each call also records, in
    `.watched_values` (a training loop's per-example outputs, for instance).
    """
    if not isinstance(root, Value):
        raise TypeError(f"compile needs a Value as its root, got {_describe(root)}")
    if isinstance(inputs, Value) or not hasattr(inputs, "__iter__"):
        raise TypeError(f"compile: inputs must be a list of leaf Values, got {_describe(inputs)}")
    inputs = list(inputs)
    order = topological_order(root)
    in_graph = {id(node) for node in order}
    seen = set()
    for i, value in enumerate(inputs):
        what = f"compile: input {i} ({value.label!r})" if isinstance(value, Value) else ""
        if not isinstance(value, Value):
            raise TypeError(f"compile: input {i} must be a Value, got {_describe(value)}")
        if value.parents:
            raise ValueError(f"{what} is computed by '{value.op}', not a leaf; pass the "
                             "leaves whose values change (parameters, data)")
        if id(value) not in in_graph:
            raise ValueError(f"{what} is not part of the graph of this root")
        if id(value) in seen:
            raise ValueError(f"{what} is given twice")
        seen.add(id(value))
    watch = list(watch)
    for i, value in enumerate(watch):
        if not isinstance(value, Value) or id(value) not in in_graph:
            raise ValueError(f"compile: watch[{i}] must be a Value of this graph, "
                             f"got {_describe(value)}")
    for node in order:
        op_info(node.op) if node.parents else None  # unknown ops fail here, clearly
    extra = {}
    return CompiledGraph(_generate(root, inputs, order, watch, extra), inputs, root, order,
                         watch, extra)


def _generate(root, inputs, order, watch=(), extra=None):
    extra = {} if extra is None else extra
    names = Names()
    # The text, the pictures and the page call nodes w, n1, L (autograd_core.naming):
    # the code uses the same names, so `n1 = w * x` here is the legend's n1.
    shown = identifiers(node_names(order, root), reserved=_RESERVED)
    variable = {}     # id(node) -> its identifier, for nodes that depend on an input
    expression = {}   # id(node) -> the ast for its value (a Name or a constant)
    for value in inputs:
        variable[id(value)] = names.new(shown.get(value, value.label), "x")
    forward = []
    for node in order:
        key = id(node)
        if key in variable:
            expression[key] = variable[key]
            continue
        if not node.parents or not any(id(p) in variable for p in node.parents):
            expression[key] = literal(node.data)  # a constant: bake its value in
            continue
        name = variable[key] = names.new(shown.get(node, node.label), op_info(node.op).stem)
        expression[key] = name
        forward.append(f"{name} = {_forward(node, expression, extra)}")

    backward, assigned = [], set()
    out = variable.get(id(root))
    if out is not None:
        backward.append(f"d_{out} = 1.0")
        assigned.add(out)
    for node in reversed(order):
        if not node.parents or id(node) not in variable:
            continue
        upstream = "d_" + variable[id(node)]
        expansion, operands = _operand_names(node, expression)
        for index, parent in enumerate(node.parents):
            if id(parent) not in variable:
                continue  # a constant: its gradient is not asked for
            term = _term(expansion, operands, index, upstream, extra)
            target = "d_" + variable[id(parent)]
            if target in assigned:
                backward.append(f"{target} += {term}")
            else:
                backward.append(f"{target} = {term}")
                assigned.add(target)
    grads = []
    for value in inputs:
        name = "d_" + variable[id(value)]
        if name not in assigned:  # only possible when the root is a constant
            backward.append(f"{name} = 0.0")
        grads.append(name)
    result = out if out is not None else expression[id(root)]

    lines = [HEADER + "def forward_backward(inputs):"]
    if inputs:
        unpack = ", ".join(variable[id(v)] for v in inputs)
        lines.append(f"    {unpack}{',' if len(inputs) == 1 else ''} = inputs")
    lines += ["    # forward"] + ["    " + line for line in forward]
    if forward:
        # The engine refuses a value that overflows; so does the code (v - v is 0.0 for
        # a number and nan for inf or nan), and the call then replays it in the engine.
        checked = ", ".join(f"{line.split(' = ', 1)[0]} - {line.split(' = ', 1)[0]}"
                            for line in forward)
        lines.append(f"    if fsum(({checked},)) != 0.0: raise ArithmeticError")
    lines += ["    # backward"] + ["    " + line for line in backward]
    watched = f", [{', '.join(expression[id(v)] for v in watch)}]" if watch else ""
    lines.append(f"    return {result}, [{', '.join(grads)}]{watched}")
    return "\n".join(lines) + "\n"


def _operand_names(node, expression):
    """{operand name: source text} for the node's parents, its parameter and out."""
    expansion = expand(node.op, len(node.parents))
    names = {operand: expression[id(p)] for operand, p in zip(expansion.operands, node.parents)}
    for parameter, value in expansion.bindings.items():
        names[parameter] = literal(value)
    if id(node) in expression:
        names["out"] = expression[id(node)]
    return expansion, names


def _forward(node, expression, extra):
    """Source for node's value from its parents' expressions, by the table's formula.

    The n-ary sums' fsum is math.fsum, the exactly rounded sum the engine uses, so the
    compiled numbers equal the engine's; its flat call also keeps a sum of thousands of
    terms within what Python's compiler can nest.
    """
    expansion, names = _operand_names(node, expression)
    if not isinstance(expansion.forward, str):
        args = [names[k] for k in expansion.operands + tuple(expansion.bindings)]
        return f"{_user_function(expansion.forward, extra)}({', '.join(args)})"
    return python_source(expansion.forward, names)


def _term(expansion, names, index, upstream, extra):
    """d_node * (d node / d parents[index]) as source, by the table's local formula:
    the same expression the engine's method evaluates, so the numbers are the same.
    `names`: the node's _operand_names."""
    formula = expansion.derivatives[index]
    if isinstance(formula, str):
        if formula in ("1", "-1"):
            local = formula
        elif formula in names:  # an operand itself (a weighted sum's x_3): no template
            local = names[formula]
        else:
            local = python_source(formula, names)
    else:
        args = [names[k] for k in expansion.operands] + [names["out"]]
        local = f"{_user_function(formula, extra)}({', '.join(args)})"
    if local == "1":
        return upstream
    if local == "-1":
        return "-" + upstream
    if not (local.isidentifier() or _is_number(local)):
        local = f"({local})"
    return f"{upstream} * {local}"


def _is_number(text):
    try:
        float(text.strip("()"))
    except ValueError:
        return False
    return True
