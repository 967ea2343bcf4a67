"""The one narrator of the backward pass: every chain-rule step, in words and numbers.

`narrate(root)` runs the backward pass with `autograd_core.trace_backward` and returns a
`Derivation`: the nodes' names (`autograd_core.naming`), the legend of those names
(n1 = w * x) and one `NarratedStep` per application of the chain rule, each with the
gradient its parent held before and after it. The command line, the step-through page,
the quiz, the worksheets, the paths and the exports all read a Derivation; none of them
words a step itself.

Numbers are shown by `autograd_core.numbers.format_number`, the one rule everywhere.
"""

from __future__ import annotations

from autograd_core import Value, topological_order, trace_backward
from autograd_core import naming
# DIGITS, format_number and symbolic_local are imported by the other visualize modules
# (and the playground) from here too
from autograd_core.naming import symbolic_local
from autograd_core.numbers import DIGITS, format_number
from autograd_core.ops import expand

__all__ = ["node_names", "symbolic_local",
           "op_hint", "NarratedStep", "Derivation", "narrate", "explain_backward",
           "step_line", "kept_grads"]


# ------------------------------------------------------------------------- names

def node_names(root: Value, order=None) -> dict:
    """Every node's name (autograd_core.naming), constants written with format_number."""
    order = topological_order(root) if order is None else order
    return naming.node_names(order, root)


def op_hint(node: Value, index: int) -> str:
    """The op table's rule for this local derivative: 'for out = a * b, d out/da = b'."""
    expansion = expand(node.op, len(node.parents))
    return (f"for out = {expansion.shown_forward()}: d out/d{expansion.operands[index]} = "
            f"{expansion.shown_derivative(index)}")


# ------------------------------------------------------------------------- steps

class NarratedStep:
    """One application of the chain rule, parent.grad += local * upstream, with words.

    Fields: `number` (1.. within its pass), `pass_number` (1 for the first backward()
    call shown), `node`, `parent`, `index` (parent is node.parents[index]), `local`,
    `upstream`, `contribution`, `before` / `after` (parent.grad around this step),
    `accumulates` (the parent's gradient is a sum: it feeds more than one operation, or
    a leaf kept its gradient from an earlier pass), `root_name`, `node_name`,
    `parent_name`, `formula` (the local derivative in the nodes' names) and `hint` (the
    op table's rule it comes from).
    """

    __slots__ = ("number", "pass_number", "node", "parent", "index", "local", "upstream",
                 "contribution", "before", "after", "accumulates", "root_name", "node_name",
                 "parent_name", "formula", "hint")

    def __init__(self, step, names, root, before, accumulates, pass_number=1):
        self.number = step.number
        self.pass_number = pass_number
        self.node, self.parent, self.index = step.node, step.parent, step.index
        self.local, self.upstream, self.contribution = step.local, step.upstream, step.contribution
        self.before, self.after = before, step.parent.grad
        self.accumulates = accumulates
        self.root_name, self.node_name = names[root], names[step.node]
        self.parent_name = names[step.parent]
        self.formula = symbolic_local(step.node, step.index, names)
        self.hint = op_hint(step.node, step.index)

    @property
    def local_symbol(self) -> str:
        return f"∂{self.node_name}/∂{self.parent_name}"

    def line(self, digits: int = DIGITS) -> str:
        """'dL/dw = dL/dn1 * ∂n1/∂w = 0.235 * 0.5 = 0.1175   [∂n1/∂w = x]'.

        d is the derivative of the output (complete for the node, growing for the
        parent); ∂ is the node's local derivative, stored in the forward pass. '+='
        marks a step that adds one path's share to a gradient that is a sum.
        """
        f = lambda x: format_number(x, digits)  # noqa: E731
        r, n, p = self.root_name, self.node_name, self.parent_name
        eq = "+=" if self.accumulates else "="
        return (f"d{r}/d{p} {eq} d{r}/d{n} * {self.local_symbol} = {f(self.upstream)} * "
                f"{f(self.local)} = {f(self.contribution)}"
                f"   [{self.local_symbol} = {self.formula}]")

    def change(self, digits: int = DIGITS) -> str:
        """'grad of w: 0 -> 0.1175'."""
        return (f"grad of {self.parent_name}: {format_number(self.before, digits)} -> "
                f"{format_number(self.after, digits)}")

    def __repr__(self):
        return f"NarratedStep({self.pass_number}.{self.number}: {self.line()})"


class Derivation:
    """A narrated backward pass (or several): names, legend, steps, final gradients.

    `steps` lists every step of every pass in order; `gradients` maps each node to its
    grad after the last pass; `legend` is [(name, definition)] for the nodes whose name
    does not say what they are (n1 = w * x).
    """

    def __init__(self, root, order, names, steps, passes):
        self.root, self.order, self.names = root, order, names
        self.steps, self.passes = steps, passes
        self.legend = naming.legend(order, names)
        self.gradients = {v: v.grad for v in order}

    @property
    def root_name(self) -> str:
        return self.names[self.root]

    def variables(self):
        """The leaves that get a gradient (labelled leaves), in forward order."""
        return [v for v in self.order if not v.parents and v.label
                and getattr(v, "requires_grad", True)]

    def lines(self, digits: int = DIGITS):
        return [s.line(digits) for s in self.steps]

    def legend_lines(self):
        return [f"{name} = {text}" for name, text in self.legend]


def _uses(order):
    uses = {}
    for v in order:
        for parent in v.parents:
            uses[parent] = uses.get(parent, 0) + 1
    return uses


def narrate(root: Value, passes: int = 1) -> Derivation:
    """Run `passes` backward passes step by step, as `backward()` would, and narrate them.

    The grads end as `passes` calls of backward() leave them (leaves accumulate, results
    are recomputed each pass); use `kept_grads` around it to leave them untouched.
    """
    order = topological_order(_check_root(root))
    names = node_names(root, order)
    steps = list(_narrated_steps(root, order, names, passes))
    return Derivation(root, order, names, steps, passes)


def _check_root(root):
    if not isinstance(root, Value):
        raise TypeError(f"narrate needs a Value, got {type(root).__name__}")
    return root


def _narrated_steps(root, order, names, passes=1):
    """NarratedSteps as trace_backward applies them (lazily: grads fill in as you go)."""
    if not isinstance(passes, int) or isinstance(passes, bool) or passes < 1:
        raise ValueError(f"passes must be a whole number >= 1, got {passes!r}")
    uses = _uses(order)
    for pass_number in range(1, passes + 1):
        for step in trace_backward(root):
            earlier = pass_number > 1 and not step.parent.parents
            yield NarratedStep(step, names, root, step.before,
                               uses[step.parent] > 1 or earlier, pass_number)


class kept_grads:
    """Leave every grad of root's graph as it was after the block."""

    def __init__(self, root, zero=True):
        self.order = topological_order(root)
        self.zero = zero

    def __enter__(self):
        self.saved = [v.grad for v in self.order]
        if self.zero:
            for v in self.order:
                v.grad = 0.0
        return self

    def __exit__(self, *exc_info):
        for v, grad in zip(self.order, self.saved):
            v.grad = grad
        return False


def explain_backward(root: Value, digits: int = DIGITS):
    """Run the backward pass step by step; yield (NarratedStep, line) pairs as it goes."""
    order = topological_order(_check_root(root))
    for step in _narrated_steps(root, order, node_names(root, order)):
        yield step, step.line(digits)


def step_line(step, names: dict, root: Value, digits: int = DIGITS,
              accumulates: bool = False) -> str:
    """The line of one trace_backward Step (its gradient before is taken as unknown)."""
    narrated = NarratedStep(step, names, root, step.parent.grad - step.contribution,
                            accumulates)
    return narrated.line(digits)
