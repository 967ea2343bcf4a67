"""The backward pass one chain-rule step at a time, for showing it to people."""

from __future__ import annotations

from .engine import Value, _order
from .steps import ChainRule, Step

__all__ = ["Step", "trace_backward"]


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
    order = _order(root)
    for node in order:
        if node.parents:
            node.grad = 0.0
    if not root.requires_grad:
        return
    leaves = [node for node in order if not node.parents]
    walk = ChainRule(root, order, start=[(leaf, leaf.grad) for leaf in leaves])
    root.grad = walk.grads[root]
    for step in walk:
        step.parent.grad = step.after
        yield step
    error = walk.error("trace_backward", leaves)
    if error is not None:
        raise error
