"""The expression tab: an expression and its values in, the graph, gradients and the
chain-rule steps out, as JSON for the page to draw.

Parsing is autograd_core/expr.py's (the same whitelist as `chainrule grad`), the step lines
are visualize.explain's (the same text the CLI prints), node names are node_names'.
The quiz is the step-through page's own, marked by the student package
(student.quiz), served whole for the tab to show in a frame: its questions, hints,
marking and score are that page's, so nothing of the quiz is written twice.
"""

from __future__ import annotations

import math

from autograd_core import topological_order
from autograd_core.ops import expand
from autograd_core import expr
from visualize.explain import explain_backward, node_names, symbolic_local

__all__ = ["MAX_EXPRESSION", "MAX_NODES", "ExpressionProblem", "evaluate", "quiz_page",
           "QUIZ_DIGITS"]

MAX_EXPRESSION = 300   # characters: a page's text box, not a file
MAX_NODES = 150        # beyond this the picture is unreadable anyway
QUIZ_DIGITS = (1, 8)   # significant figures a quiz may ask for (chainrule quiz: 4)


class ExpressionProblem(ValueError):
    """What was wrong with the expression or values, and where (a caret line or '')."""

    def __init__(self, message, where=""):
        super().__init__(message)
        self.where = where


def _finite(x):
    return x if math.isfinite(x) else None  # JSON has no inf/NaN; the text says it


def _build(text, values_text, sources=None):
    """(parsed, root, leaves) as `chainrule grad` builds them; ExpressionProblem if not."""
    if not isinstance(text, str) or not isinstance(values_text, str):
        raise ExpressionProblem("the expression and the values must be text")
    if len(text) > MAX_EXPRESSION:
        raise ExpressionProblem(f"the expression is {len(text)} characters long; the "
                                f"playground takes up to {MAX_EXPRESSION}")
    if len(values_text) > MAX_EXPRESSION:
        raise ExpressionProblem(f"the values are {len(values_text)} characters long; the "
                                f"playground takes up to {MAX_EXPRESSION}")
    try:
        parsed = expr.parse(text)
        values = expr.parse_assignments(values_text.replace(",", " ").split(), parsed)
        root, leaves = expr.build(parsed, values, sources=sources)
    except expr.ExpressionError as error:
        raise ExpressionProblem(str(error), error.where()) from None
    except (ArithmeticError, ValueError) as error:  # log(0), 1/0, overflow: the engine says which
        raise ExpressionProblem(f"cannot compute it: {error}") from None
    nodes = len(topological_order(root))
    if nodes > MAX_NODES:
        raise ExpressionProblem(f"the expression makes {nodes} nodes; the playground "
                                f"draws up to {MAX_NODES}: write a shorter one")
    return parsed, root, leaves


def quiz_page(text, values_text, digits=4) -> dict:
    """The step-through quiz page of the expression (HTML text), as
    `student.quiz.quiz_html` writes it: marked as `chainrule quiz` marks."""
    from student.quiz import quiz_page as student_quiz_page
    if isinstance(digits, str) and digits.strip().isdecimal():
        digits = int(digits)
    low, high = QUIZ_DIGITS
    if isinstance(digits, bool) or not isinstance(digits, int) or not low <= digits <= high:
        raise ExpressionProblem(f"the quiz's significant figures must be a whole number "
                                f"from {low} to {high}, got {digits!r}")
    parsed, root, _ = _build(text, values_text)
    page = student_quiz_page(root, digits=digits,
                             title=f"Quiz: the backward pass of {parsed.text}")
    return {"type": "quiz", "text": parsed.text, "digits": digits, "page": page}


def evaluate(text, values_text, digits=4) -> dict:
    """Parse, build, run the backward pass step by step; raise ExpressionProblem."""
    sources = {}
    parsed, root, leaves = _build(text, values_text, sources)
    order = topological_order(root)
    names = node_names(root, order)
    ids = {v: i for i, v in enumerate(order)}
    steps = []
    for step, line in explain_backward(root, digits=digits):  # the CLI's very lines
        steps.append({"node": ids[step.node], "parent": ids[step.parent],
                      "index": step.index, "grad": _finite(step.parent.grad), "line": line})
    nodes = []
    for v in order:
        if not v.parents:
            kind = "variable" if v.label in leaves else "constant"
        else:
            kind = "output" if v is root else "result"
        node = {"id": ids[v], "name": names[v], "kind": kind, "data": _finite(v.data),
                "grad": _finite(v.grad), "op": "", "parents": []}
        if v.parents:
            node["op"] = expand(v.op, len(v.parents)).symbol
            node["parents"] = [{"id": ids[p], "local": _finite(local),
                                "formula": symbolic_local(v, i, names)}
                               for i, (p, local) in enumerate(zip(v.parents, v.local_grads))]
        nodes.append(node)
    legend = sorted(((names[v], source) for v, source in sources.items()
                     if v is not root and names[v] != source), key=lambda p: int(p[0][1:]))
    return {"type": "expression", "text": parsed.text, "root": names[root],
            "value": _finite(root.data), "variables": parsed.names,
            "gradients": {name: _finite(leaves[name].grad) for name in parsed.names},
            "nodes": nodes, "steps": steps, "legend": legend}
