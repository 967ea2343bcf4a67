"""Where a gradient comes from: every path from the output to an input, and the formula.

The chain rule on a graph says: d out / d x is the sum, over every path from the output
down to x, of the product of the local derivatives along that path. `gradient_paths`
lists those paths with their numbers (it is how `x*x`, `a + a` and a weight used twice
get their gradients); when there are more than `limit` of them it says how many instead
of listing millions. `gradient_formula` writes the same sum as a formula in the nodes'
names from the op table's local derivatives (dL/dw = L * (1 - L) * x), lightly
simplified (no `* 1`, no `+ 0`); `simplified_formula` asks SymPy, when installed, for a
simpler form in the inputs alone.
"""

from __future__ import annotations

import math
import re

from autograd_core import Value, topological_order
from autograd_core.expr import backend
from autograd_core.ops import evaluate as ops_evaluate
from autograd_core.ops import expand, local_formula

from .explain import DIGITS, format_number, kept_grads, node_names, symbolic_local

__all__ = ["Path", "PathSet", "gradient_paths", "gradient_formula", "simplified_formula",
           "count_paths", "LIMIT"]

LIMIT = 64  # paths listed per input before only their number is given


class Path:
    """One path from the output down to an input: its hops and the product along it.

    `hops` is [(node, index)] from the output down (the edge into node.parents[index]);
    `locals` the local derivative of each hop, `value` their product.
    """

    __slots__ = ("hops", "locals", "value")

    def __init__(self, hops):
        self.hops = tuple(hops)
        self.locals = tuple(node.local_grads[i] for node, i in self.hops)
        value = 1.0
        for local in self.locals:
            value *= local  # the order backward() multiplies in: upstream * local
        self.value = value

    def nodes(self, names):
        """The names along the path: ['L', 'n2', 'n1', 'w']."""
        return [names[self.hops[0][0]]] + [names[node.parents[i]] for node, i in self.hops]

    def symbols(self, names):
        return [f"∂{names[node]}/∂{names[node.parents[i]]}" for node, i in self.hops]

    def formulas(self, names):
        return [symbolic_local(node, i, names) for node, i in self.hops]

    def text(self, names, digits=DIGITS):
        """'L -> n2 -> n1 -> w: ∂L/∂n2 * ∂n2/∂n1 * ∂n1/∂w = 0.235 * 1 * 0.5 = 0.1175'."""
        route = " -> ".join(self.nodes(names))
        twice = [f"{names[node.parents[i]]} as operand "
                 f"{local_formula(node.op, i, len(node.parents))[0]} of {names[node]}"
                 for node, i in self.hops if node.parents.count(node.parents[i]) > 1]
        route += f" ({', '.join(twice)})" if twice else ""
        numbers = " * ".join(format_number(x, digits) for x in self.locals)
        product = "" if len(self.locals) == 1 else f" = {format_number(self.value, digits)}"
        return f"{route}: {' * '.join(self.symbols(names))} = {numbers}{product}"


class PathSet:
    """The paths from the output to one input.

    `variable` (the leaf), `name`, `count` (how many paths there are), `paths` (the
    list, or None when count > limit), `gradient` (the engine's backward() gradient)
    and `total` (the sum of the paths' products, None when they are not listed).
    """

    def __init__(self, variable, name, count, paths, gradient, limit=None):
        self.variable, self.name, self.count = variable, name, count
        self.limit = limit
        self.paths, self.gradient = paths, gradient
        self.total = math.fsum(p.value for p in paths) if paths is not None else None

    def text(self, names, root_name, digits=DIGITS) -> str:
        f = lambda x: format_number(x, digits)  # noqa: E731
        head = f"d{root_name}/d{self.name}: {self.count} path{'s' if self.count != 1 else ''}"
        if self.paths is None:
            return (f"{head}, too many to list (more than {self.limit}); their sum is "
                    f"the gradient d{root_name}/d{self.name} = {f(self.gradient)}")
        lines = [head] + [f"  {p.text(names, digits)}" for p in self.paths]
        if self.count == 0:
            lines.append(f"  no path: {self.name} does not affect {root_name}; "
                         f"d{root_name}/d{self.name} = 0")
        else:
            lines.append(f"  sum of the paths = {f(self.total)} = d{root_name}/d{self.name}"
                         f" (backward() gives {f(self.gradient)})")
        return "\n".join(lines)


def count_paths(root: Value, order=None) -> dict:
    """{node: the number of paths from root down to it} (an edge per operand)."""
    order = topological_order(root) if order is None else order
    counts = {v: 0 for v in order}
    counts[root] = 1
    for node in reversed(order):
        for parent in node.parents:
            counts[parent] += counts[node]
    return counts


def _variables(order, wrt):
    leaves = [v for v in order if not v.parents and v.label
              and getattr(v, "requires_grad", True)]
    if wrt is None:
        return leaves
    chosen = []
    for item in wrt:
        if isinstance(item, Value):
            if item not in order:
                raise ValueError(f"gradient_paths: {item!r} is not in the output's graph")
            chosen.append(item)
            continue
        match = [v for v in leaves if v.label == item]
        if not match:
            known = ", ".join(v.label for v in leaves) or "none"
            raise ValueError(f"gradient_paths: no input labelled {item!r}; the inputs are "
                             f"{known}")
        chosen.extend(match)
    return chosen


def _enumerate(root, target, reaches, limit):
    """Every path root -> target (depth first, explicit stack), at most `limit`."""
    paths = []
    stack = [(root, ())]
    while stack:
        node, hops = stack.pop()
        if node is target:
            paths.append(Path(hops))
            if len(paths) >= limit:
                break
            continue
        for i in reversed(range(len(node.parents))):
            parent = node.parents[i]
            if parent in reaches:
                stack.append((parent, hops + ((node, i),)))
    return paths


def gradient_paths(root: Value, wrt=None, limit: int = LIMIT):
    """[PathSet] for each input (labelled leaf, or the Values / labels in `wrt`).

    Each PathSet lists every path from `root` down to its input with the local
    derivatives along it and their product; the products sum to the gradient (both are
    given). An input reached by more than `limit` paths gets only their count.
    Leaves every grad of the graph as it was.
    """
    if not isinstance(root, Value):
        raise TypeError(f"gradient_paths needs a Value, got {type(root).__name__}")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"gradient_paths: limit must be a whole number >= 1, got {limit!r}")
    order = topological_order(root)
    names = node_names(root, order)
    counts = count_paths(root, order)
    with kept_grads(root):
        root.backward()
        gradients = {v: v.grad for v in order}
    result = []
    for variable in _variables(order, wrt):
        count = counts[variable]
        paths = None
        if count <= limit:
            reaches = _reaching(order, variable)
            paths = _enumerate(root, variable, reaches, limit) if count else []
        result.append(PathSet(variable, names[variable], count, paths, gradients[variable],
                              limit))
    return result


def _reaching(order, target):
    """The nodes from which `target` can be reached (target included)."""
    reaches = {target}
    for node in order:
        if any(p in reaches for p in node.parents):
            reaches.add(node)
    return reaches


# ---------------------------------------------------------------------- formulas

_LOW = re.compile(r" [-+/] | if |^-")


def _factor(text):
    """A local derivative as a factor of a product: bracketed when it is a sum or a
    quotient (1 / b * x would read as 1 / (b * x))."""
    depth, low = 0, False
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and _LOW.match(text, i):
            low = True
    return f"({text})" if low else text


def _product(formulas):
    """'L * (1 - L) * x' from ['L * (1 - L)', '1', 'x']: no 1s; -1 as a sign; None for 0."""
    sign, factors = 1, []
    for formula in formulas:
        text = formula.strip()
        if text in ("0", "0.0"):
            return None
        if text in ("1", "1.0"):
            continue
        if text in ("-1", "-1.0"):
            sign = -sign
            continue
        factors.append(text)
    if len(factors) > 1:
        factors = [_factor(f) for f in factors]
    body = " * ".join(factors) or "1"
    return body if sign > 0 else f"-{body}" if factors else "-1"


def gradient_formula(root: Value, wrt=None, limit: int = LIMIT) -> dict:
    """{input name: d root / d input as a formula in the nodes' names}.

    The sum over paths of the product of the op table's local derivatives, with no
    `* 1` and no `+ 0`. An input with more than `limit` paths gets None.
    """
    order = topological_order(root)
    names = node_names(root, order)
    formulas = {}
    for path_set in gradient_paths(root, wrt, limit):
        if path_set.paths is None:
            formulas[path_set.name] = None
            continue
        terms = [t for t in (_product(p.formulas(names)) for p in path_set.paths) if t]
        text = ""
        for term in terms:
            if not text:
                text = term
            elif term.startswith("-"):
                text += " - " + term[1:]
            else:
                text += " + " + term
        formulas[path_set.name] = text or "0"
    return formulas


def simplified_formula(root: Value, wrt=None, limit: int = LIMIT):
    """{input name: SymPy's simplified d root / d input, in the inputs alone}, from the
    same sum over paths (each local derivative is the op table's formula evaluated over
    SymPy); None when SymPy is not installed (pip install chainrule[symbolic]), and None
    for an input whose formula SymPy cannot take."""
    try:
        import sympy
    except ImportError:
        return None
    space = backend("sympy")
    order = topological_order(root)
    names = node_names(root, order)
    symbols = {}
    path_sets = gradient_paths(root, wrt, limit)
    try:
        for v in order:
            symbols[v] = _symbolic_value(v, symbols, names, space, sympy)
    except Exception:  # an op SymPy cannot express: no simplified form
        return {ps.name: None for ps in path_sets}
    result = {}
    for path_set in path_sets:
        if path_set.paths is None:
            result[path_set.name] = None
            continue
        try:
            total = sympy.Integer(0)
            for path in path_set.paths:
                term = sympy.Integer(1)
                for node, i in path.hops:
                    term *= _symbolic_local(node, i, symbols, space)
                total += term
            result[path_set.name] = str(sympy.simplify(total))
        except Exception:
            result[path_set.name] = None
    return result


def _sympy_number(x, sympy):
    return sympy.Integer(int(x)) if x == int(x) and abs(x) < 1e15 else sympy.Float(x)


def _symbolic_value(v, symbols, names, space, sympy):
    """The node as a SymPy expression in the inputs (constants as numbers)."""
    if not v.parents:
        if v.label and getattr(v, "requires_grad", True):
            return sympy.Symbol(names[v])
        if v.label in ("pi", "e"):
            return space[v.label]
        return _sympy_number(v.data, sympy)
    expansion = expand(v.op, len(v.parents))
    info = expansion.op
    parents = [symbols[p] for p in v.parents]
    if info.function and info.function in space:
        return space[info.function](*parents)
    return ops_evaluate(expansion.forward, _symbolic_names(expansion, parents, space, sympy))


def _symbolic_names(expansion, parents, space, sympy):
    """The SymPy backend with the node's operands and its parameter bound."""
    namespace = dict(space, **expansion.names(parents))
    for parameter, value in expansion.bindings.items():
        namespace[parameter] = _sympy_number(value, sympy)
    return namespace


def _symbolic_local(node, index, symbols, space):
    import sympy
    expansion = expand(node.op, len(node.parents))
    parents = [symbols[p] for p in node.parents]
    namespace = _symbolic_names(expansion, parents, space, sympy)
    namespace["out"] = symbols[node]
    return ops_evaluate(expansion.derivatives[index], namespace)
