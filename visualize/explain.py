"""Words for the backward pass: names for nodes and one checkable line per chain-rule step.

The CLI's step printout and the step-through page both use these, so a class sees the
same line in the terminal and in the browser.
"""

from __future__ import annotations

import re

from autograd_core import Value, topological_order, trace_backward
from autograd_core.ops import local_formula

__all__ = ["node_names", "step_line", "symbolic_local", "explain_backward"]

_OPERAND = re.compile(r"\b(out|a|b|n|w_\d+|x_\d+|a_\d+)\b")


def node_names(root: Value, order=None) -> dict:
    """A short name for every node: its label, else n1, n2, ... (the root: L).

    Unlabelled leaves are constants and are named by their value, e.g. (0.5).
    """
    order = topological_order(root) if order is None else order
    names, count = {}, 0
    for v in order:
        if v.label:
            names[v] = v.label
        elif v is root:
            names[v] = "L"
        elif not v.parents:
            names[v] = f"({v.data:g})"
        else:
            count += 1
            names[v] = f"n{count}"
    return names


def symbolic_local(node: Value, index: int, names: dict) -> str:
    """d node / d parents[index] as a formula in the nodes' own names, e.g. 'x' or 'z*(1-z)'."""
    arity = len(node.parents)
    _, formula = local_formula(node.op, index, arity)
    k = (arity - 1) // 2

    def name_of(match):
        token = match.group(1)
        if token == "out":
            return names[node]
        if token == "a":
            return names[node.parents[0]]
        if token == "b":
            return names[node.parents[-1]] if node.op == "wsum" else names[node.parents[1]]
        if token.startswith("w_"):
            return names[node.parents[int(token[2:]) - 1]]
        if token.startswith("x_"):
            return names[node.parents[k + int(token[2:]) - 1]]
        return token  # a_i and n are numbers already

    return _OPERAND.sub(name_of, formula)


def step_line(step, names: dict, root: Value, digits: int = 4, accumulates: bool = False) -> str:
    """'dL/dw = dL/dz * ∂z/∂w = 0.2350 * 0.5000 = 0.1175   [∂z/∂w = x]'.

    d is the derivative of the output (complete for the node, growing for the parent);
    ∂ is the node's local derivative, stored in the forward pass. With `accumulates`
    (the parent feeds more than one node) the line reads '+=', since this step adds one
    path's share to the parent's gradient.
    """
    r, n, p = names[root], names[step.node], names[step.parent]
    eq = "+=" if accumulates else "="
    f = f"{{:.{digits}f}}"
    return (f"d{r}/d{p} {eq} d{r}/d{n} * ∂{n}/∂{p} = {f.format(step.upstream)} * "
            f"{f.format(step.local)} = {f.format(step.contribution)}"
            f"   [∂{n}/∂{p} = {symbolic_local(step.node, step.index, names)}]")


def explain_backward(root: Value, digits: int = 4):
    """Run the backward pass step by step; yield (step, line) pairs."""
    order = topological_order(root)
    names = node_names(root, order)
    uses = {}
    for v in order:
        for parent in v.parents:
            uses[parent] = uses.get(parent, 0) + 1
    for step in trace_backward(root):
        yield step, step_line(step, names, root, digits, uses[step.parent] > 1)
