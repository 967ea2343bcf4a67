"""The chain-rule steps of a backward pass, one at a time, and the error for a gradient
that is not finite.

`ChainRule` is the one careful walk of a graph from its output back to its inputs.
`trace_backward` shows it step by step, `grad()` reads the gradients it adds up, and
`backward()` redoes its pass with it when its fast loop (`Value.backward`, kept apart
because it is the engine's hot path) has made a gradient inf or nan. Being careful means
two things the fast loop does not do: a zero on either side of a product passes nothing
back, even against an infinite factor (relu's dead side, a branch that does not
matter), and the first step that makes a gradient inf or nan is kept, so that the error
can name it.

It reads only the public form of a node (`parents`, `local_grads`, `requires_grad`), so
it needs nothing from the engine and the engine can use it.
"""

from __future__ import annotations

from .ops import local_formula, op_info

__all__ = ["Step", "ChainRule", "chain_rule", "NonFiniteGradientError", "describe_node",
           "non_finite_error"]


class NonFiniteGradientError(OverflowError):
    """A gradient became inf or nan; the message names the first chain-rule step."""


def passed_back(upstream, local):
    """upstream * local, the share of the gradient one step passes back; but a zero on
    either side passes nothing, even times an infinite other side (relu's dead side, a
    node whose gradient is 0): the rule backward() follows too."""
    return 0.0 if local == 0.0 or upstream == 0.0 else upstream * local


class Step:
    """One application of the chain rule: parent.grad += local * upstream."""

    __slots__ = ("number", "node", "parent", "index", "local", "upstream", "contribution",
                 "before", "after")

    def __init__(self, number, node, parent, index, local, upstream, before=0.0):
        self.number = number          # 1, 2, ... in the order backward() applies them
        self.node = node              # the Value whose gradient flows back
        self.parent = parent          # the Value it flows into
        self.index = index            # parent is node.parents[index]
        self.local = local            # d node / d parent, from the forward pass
        self.upstream = upstream      # d root / d node, complete at this moment
        self.contribution = passed_back(upstream, local)
        self.before = before          # parent's gradient before this step
        self.after = before + self.contribution  # and after it

    @property
    def formula(self) -> str:
        """The local derivative as text from the op table, e.g. 'b' for d(a*b)/da."""
        return local_formula(self.node.op, self.index, len(self.node.parents))[1]

    @property
    def operand(self) -> str:
        """The operand's name in that formula, e.g. 'a' or 'w_2'."""
        return local_formula(self.node.op, self.index, len(self.node.parents))[0]

    @property
    def op_symbol(self) -> str:
        return op_info(self.node.op).symbol

    def __repr__(self):
        return (f"Step({self.number}: {self.op_symbol} -> parent {self.index}: "
                f"{self.upstream!r} * {self.local!r} = {self.contribution!r})")


class ChainRule:
    """d root / d node for every node of `order`, added up one Step at a time.

    `order` lists the nodes that need a gradient, each after all of its parents (leaves
    may be left out: they have no steps). `start` gives the gradients some nodes start
    from (backward() and trace_backward start each leaf from its .grad, since leaves
    accumulate across passes); every other node starts from 0 and the root gets 1 more.
    Iterating yields the steps in the order backward() applies them, each already added
    into `grads`; constants get no step. `first_bad` is the first step that made a
    gradient inf or nan, or None. No node's .grad is touched.
    """

    def __init__(self, root, order, start=None):
        self.order = order
        self.grads = dict(start) if start else {}
        self.grads[root] = self.grads.get(root, 0.0) + 1.0
        self.first_bad = None

    def __iter__(self):
        return self._walk(yield_steps=True)

    def run(self) -> ChainRule:
        """Take every step; the gradients are then in `grads`. No Step is made but the
        first bad one: grad() walks every edge and reads only the sums (a Step per edge
        made it twice as slow)."""
        for _ in self._walk(yield_steps=False):
            pass  # nothing is yielded: the walk runs to its end at once
        return self

    def _walk(self, yield_steps):
        grads, number = self.grads, 0
        grad_of = grads.get  # bound once: grad() walks every edge with this
        for node in reversed(self.order):
            upstream = grad_of(node, 0.0)
            for index, (parent, local) in enumerate(zip(node.parents, node.local_grads)):
                if not parent.requires_grad:
                    continue
                number += 1
                before = grad_of(parent, 0.0)
                if yield_steps:
                    step = Step(number, node, parent, index, local, upstream, before)
                    grads[parent] = total = step.after
                else:
                    step = None
                    grads[parent] = total = before + passed_back(upstream, local)
                if self.first_bad is None and total - total != 0.0:
                    self.first_bad = step or Step(number, node, parent, index, local,
                                                  upstream, before)
                if yield_steps:
                    yield step

    def error(self, where, nodes):
        """The NonFiniteGradientError for the first of `nodes` whose gradient is inf or
        nan (None when they are all finite); `where` names the caller."""
        for node in nodes:
            total = self.grads.get(node, 0.0)
            if total - total != 0.0:
                return non_finite_error(self.first_bad, where, node, total)
        return None


def chain_rule(root, order):
    """({node: d root / d node} over `order`, the first bad Step or None), by ChainRule."""
    walk = ChainRule(root, order).run()
    return walk.grads, walk.first_bad


def describe_node(node) -> str:
    """A node in words for error messages: its label or op, and its value."""
    if node.label:
        return f"{node.label!r} (= {node.data!r})"
    if node.parents:
        return f"the {node.op!r} node (= {node.data!r})"
    return f"the {'input' if node.requires_grad else 'constant'} {node.data!r}"


def non_finite_error(first_bad, where="backward", leaf=None, value=None):
    """The error for a gradient that is not finite: which one, and the first chain-rule
    step (a Step: the node, its operand, the numbers) that made a gradient inf or nan."""
    which = f"the gradient of {describe_node(leaf)} is {value!r}" if leaf is not None \
        else "a gradient is not finite"
    return NonFiniteGradientError(
        f"{where}: {which}: it first went wrong at chain-rule step {first_bad.number}, "
        f"from {describe_node(first_bad.node)} into its operand {first_bad.index + 1}, "
        f"{describe_node(first_bad.parent)}: {first_bad.upstream!r} * local derivative "
        f"{first_bad.local!r} = {first_bad.contribution!r}, making that gradient "
        f"{first_bad.after!r}; rescale the inputs or constants so the products stay "
        "within about 1e308")
