"""One name for every node of a graph, used by every text, picture and page that shows it.

The scheme: a node's own label when it has one; the output, when unlabelled, is `L`;
every other unlabelled result is n1, n2, ... in the order the forward pass computed
them; an unlabelled leaf is a constant and is named by its value, e.g. `(0.5)`. Two
different nodes never share a name: a label used again gets `#2`, `#3`, ...; the
numbering n1, n2, ... skips names a label already took.

`definition(node, names)` says what a named result is, from the op table's forward
formula in the operands' names (n1 = w * x), for the legend beside a picture or a list
of steps; `symbolic_local(node, index, names)` is a local derivative in the same names
(d n1/d w = x), for every step shown, on a page or in a failed assert_derivative.
Standard library only, and Python 3.9 compatible (the compiler uses it too).
"""

from __future__ import annotations

import keyword
import re

from .numbers import format_number
from .ops import expand, number_text, rename

__all__ = ["ROOT_NAME", "node_names", "definition", "symbolic_local", "legend", "identifiers"]

ROOT_NAME = "L"


def node_names(order, root=None) -> dict:
    """{node: name} for the nodes of `order` (a topological order, leaves first).

    `root` is the output (default: the last node of `order`). A constant's value is
    written with format_number's default figures whatever --digits says, so a node
    keeps one name in every listing.
    """
    order = list(order)
    if root is None and order:
        root = order[-1]
    taken = set()
    names = {}
    repeats = {}
    for node in order:  # labels first, so n1, n2, ... can avoid them
        if node.label:
            name = node.label
            if name in taken:
                repeats[name] = repeats.get(name, 1) + 1
                name = f"{node.label}#{repeats[name]}"
                while name in taken:
                    repeats[node.label] += 1
                    name = f"{node.label}#{repeats[node.label]}"
            names[node] = name
            taken.add(name)
    if root is not None and root not in names:
        name = ROOT_NAME
        while name in taken:
            name += "_"
        names[root] = name
        taken.add(name)
    count = 0
    for node in order:
        if node in names:
            continue
        if not node.parents:
            names[node] = f"({format_number(node.data)})"
            continue
        count += 1
        while f"n{count}" in taken:
            count += 1
        names[node] = f"n{count}"
        taken.add(names[node])
    return names


def definition(node, names) -> str:
    """What the result `node` is, in its operands' names: 'w * x', 'sigmoid(n2)'."""
    expansion = expand(node.op, len(node.parents))
    info = expansion.op
    parents = node.parents
    if info.function or not isinstance(expansion.forward, str):
        # A named function reads best as its call: maximum(w, x), sigmoid(n2).
        call = info.function or info.name
        return f"{call}({', '.join(names[p] for p in parents)})"
    fields = {operand: names[p] for operand, p in zip(expansion.operands, parents)}
    fields["out"] = names[node]
    fields.update((k, number_text(v)) for k, v in expansion.bindings.items())
    return rename(expansion.forward, fields, display=True)


def symbolic_local(node, index: int, names) -> str:
    """d node / d parents[index] as a formula in the nodes' names: 'x', 'L * (1 - L)', or
    for a weighted sum's input, its weight's name."""
    expansion = expand(node.op, len(node.parents))
    if not isinstance(expansion.derivatives[index], str):  # a user's Python function
        return expansion.shown_derivative(index)
    fields = {operand: names[p] for operand, p in zip(expansion.operands, node.parents)}
    fields["out"] = names[node]
    return rename(expansion.shown_derivative(index), fields)


def legend(order, names) -> list:
    """[(name, definition)] for every result whose name does not already say what it is
    (n1 = w * x, and L = ... for an unlabelled output), in forward order."""
    rows = []
    for node in order:
        if node.parents and not node.label:
            rows.append((names[node], definition(node, names)))
    return rows


def identifiers(names, reserved=()) -> dict:
    """{node: a Python identifier} from node_names' names, for generated code: a name
    that is one already stays (w, n1, L); any other (L1.n1.w1, (w*x), w#2) keeps its
    letters and digits joined by _ ; clashes, keywords and `reserved` get _2, _3, ...
    Constants are left out: generated code writes their values."""
    taken = set(reserved)
    result = {}
    for node, name in names.items():
        if not node.parents and not node.label:
            continue
        base = name if name.isidentifier() else "_".join(re.findall(r"[A-Za-z0-9]+", name))
        if not base or base[0].isdigit():
            base = "v_" + base
        candidate, k = base, 1
        while candidate in taken or keyword.iskeyword(candidate):
            k += 1
            candidate = f"{base}_{k}"
        taken.add(candidate)
        result[node] = candidate
    return result
