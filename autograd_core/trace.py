"""The backward pass one chain-rule step at a time, for showing it to people."""

from __future__ import annotations

from .engine import Value, _backward_order, non_finite_error
from .ops import local_formula, op_info

__all__ = ["Step", "trace_backward"]


class Step:
    """One application of the chain rule: parent.grad += local * upstream."""

    __slots__ = ("number", "node", "parent", "index", "local", "upstream", "contribution")

    def __init__(self, number, node, parent, index, local, upstream):
        self.number = number          # 1, 2, ... in the order backward() applies them
        self.node = node              # the Value whose gradient flows back
        self.parent = parent          # the Value it flows into
        self.index = index            # parent is node.parents[index]
        self.local = local            # d node / d parent, from the forward pass
        self.upstream = upstream      # d root / d node, complete at this moment
        # A local derivative of exactly 0 passes nothing back, even from an infinite
        # upstream gradient (relu's dead side): the rule backward() follows too.
        self.contribution = 0.0 if local == 0.0 else upstream * local

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


def trace_backward(root: Value):
    """Yield the chain-rule steps of `root.backward()` in the order it applies them.

    Each step's contribution is added to its parent's grad before the step is yielded,
    so a consumer sees the gradient filling in; after the last step every grad equals
    what `backward()` gives (steps whose upstream is 0 are shown too). Constants get no
    step. A gradient that ends up inf or nan raises NonFiniteGradientError after the
    last step, naming the first step that made one, as backward() does.
    """
    if not isinstance(root, Value):
        raise TypeError(f"trace_backward needs a Value, got {type(root).__name__}")
    order = _backward_order(root)
    for node in order:
        if node.parents:
            node.grad = 0.0
    if not root.requires_grad:
        return
    if root.parents:
        root.grad = 1.0
    else:
        root.grad += 1.0
    number = 0
    first_bad = None
    for node in reversed(order):
        upstream = node.grad
        for index, (parent, local) in enumerate(zip(node.parents, node.local_grads)):
            if not parent.requires_grad:
                continue
            number += 1
            step = Step(number, node, parent, index, local, upstream)
            parent.grad += step.contribution
            if first_bad is None and parent.grad - parent.grad != 0.0:
                first_bad = (number, node, index, upstream, local, step.contribution,
                             parent.grad)
            yield step
    if first_bad is not None:
        for node in order:
            if not node.parents and node.grad - node.grad != 0.0:
                raise non_finite_error(first_bad, "trace_backward", node, node.grad)
