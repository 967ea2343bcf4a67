"""step_through_html: one offline HTML page that walks a class through the backward pass.

The page holds the graph as inline SVG (drawn by draw_graph), the chain-rule steps as
JSON (narrated by `visualize.explain`) and a little JavaScript that replays them: Prev /
Next / Play / Reset and the arrow keys. The HTML, CSS and JavaScript are the package's
files in `visualize/static/`, inlined into the page, so nothing is fetched: no CDN, no
server, so it works from a USB stick in a lecture hall. `StepThrough` shows the same
page inline in Jupyter (an iframe holding the page's text).

Options: `quiz=True` leaves every gradient blank until the student types the step's
local derivative and new gradient (checked to the digits shown, with the op table's
rule as a hint after a wrong answer, and a score); `passes=2` replays two backward()
calls, showing the inputs' gradients accumulate while the results are recomputed.
Marking is not this package's job: a quiz page is given its `marking` (the script that
marks a typed answer and the answer data that script reads), which the student package
supplies (`student.quiz`: `chainrule grad --html --quiz`, the playground's quiz
and `StepThroughQuiz` in Jupyter).

What a step shows:
- step 0 is the forward pass alone: every value, every local derivative on the edges,
  and no gradients at all (the root's too is blank);
- at step k (1..N, the order backward() applies them) the edge carrying the gradient
  (parent -> operation) is drawn thick red, the node receiving gradient is outlined
  red, the node it flows from is outlined blue; the panel shows the exact line
  `explain.step_line` prints for that step and the counter "step k / N";
- the grads shown are those accumulated so far in this pass; the root shows 1 from
  step 1 on (the seed dL/dL = 1 is the first thing the backward pass does).
- under the controls, the legend of names (n1 = w * x), as in the terminal.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import xml.etree.ElementTree as ET
from importlib import resources

from autograd_core import Value, topological_order
from autograd_core.files import write_bytes
from autograd_core.numbers import DIGITS, format_number
from autograd_core.ops import expand

from .graph import dot_binary, draw_graph, node_name
from .explain import kept_grads, narrate

__all__ = ["step_through_html", "step_through_page", "StepThrough"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


def _finite_or_none(x: float):
    # JSON has no inf/NaN; an overflowed gradient is shown by its text, e.g. "inf".
    return x if math.isfinite(x) else None


def _check_target(path) -> str:
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"step_through_html: path must be a str or os.PathLike, "
                        f"got {type(path).__name__}") from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not path:
        raise ValueError("step_through_html: path is empty; give a file name such as steps.html")
    if os.path.isdir(path):
        raise IsADirectoryError(f"step_through_html: {path!r} is a folder; give a file name "
                                "inside it, such as steps.html")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"step_through_html: the folder {folder!r} does not exist; "
                                "create it first")
    return path


def _check_labels(order):
    # dot stops at a NUL and cannot take unpaired surrogates; say which label, not a
    # CalledProcessError from deep inside graphviz.
    for v in order:
        if "\x00" in v.label:
            raise ValueError(f"step_through_html: the label {v.label!r} contains a NUL "
                             "character, which cannot be drawn; remove it from the label")
        try:
            v.label.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"step_through_html: the label {v.label!r} is not valid text "
                             "(an unpaired surrogate); fix the label") from None


def _step_data(derivation, svg_name, digits, marking=None):
    """What the page needs of each narrated step (every text made by the narrator) and,
    for a quiz, what its marking script is given for each blank."""
    steps = []
    for step in derivation.steps:
        node = step.node
        f = lambda x: format_number(x, digits)  # noqa: E731
        steps.append({
            "number": step.number,
            "pass": step.pass_number,
            "node": svg_name[node],
            "parent": svg_name[step.parent],
            "index": step.index,
            "node_name": step.node_name,
            "parent_name": step.parent_name,
            "op": expand(node.op, len(node.parents)).symbol,
            "upstream": _finite_or_none(step.upstream),
            "local": _finite_or_none(step.local),
            "contribution": _finite_or_none(step.contribution),
            "grad": _finite_or_none(step.after),
            "grad_text": f(step.after),
            "before_text": f(step.before),
            "line": step.line(digits),
            "change": step.change(digits),
            "local_symbol": step.local_symbol,
            "question": (f"d{step.root_name}/d{step.parent_name} "
                         f"{'+=' if step.accumulates else '='} d{step.root_name}/"
                         f"d{step.node_name} * {step.local_symbol} = {f(step.upstream)} * ?"),
            "hint": step.hint,
            "grad_hint": (f"new grad = old grad + upstream * local = {f(step.before)} + "
                          f"{f(step.upstream)} * {step.local_symbol}"),
        })
        if marking is not None:
            steps[-1]["answer_local"] = marking.answer(step.local, digits)
            steps[-1]["answer_grad"] = marking.answer(step.after, digits)
    return steps


def _annotate_svg(svg_bytes: bytes, steps, order, svg_name, names) -> str:
    """Mark up draw_graph's SVG so the script can find things without guessing.

    Value nodes get data-name="vN", their last text (the "grad X" field of the record
    label) class "grad"; each parent -> op edge gets data-step="k" of the step that
    uses it; each op -> result edge gets data-out="vN".
    """
    tree = ET.fromstring(svg_bytes)  # drops the DOCTYPE and comments; fetches nothing
    q = lambda tag: f"{{{SVG_NS}}}{tag}"  # noqa: E731
    value_names = {svg_name[v] for v in order}
    edges = {}  # title -> [(id number, element)], in the order draw_graph added them
    for g in tree.iter(q("g")):
        title = g.find(q("title"))
        if title is None:
            continue
        kind = g.get("class")
        text = title.text or ""
        if kind == "node":
            g.set("data-name", text)
            if text in value_names:
                texts = g.findall(q("text"))
                if not texts or not (texts[-1].text or "").startswith("grad "):
                    raise RuntimeError(f"step_through_html: node {text} in draw_graph's SVG has "
                                       "no 'grad X' field last; the label layout changed")
                texts[-1].set("class", "grad")
        elif kind == "edge":
            number = int(re.sub(r"\D", "", g.get("id", "")) or 0)
            edges.setdefault(text, []).append((number, g))
            source, _, target = text.partition("->")
            if source.endswith("_op") and target == source[:-3]:
                g.set("data-out", target)
    for group in edges.values():
        group.sort(key=lambda pair: pair[0])
    # A node can use the same parent twice (x * x): one edge per operand, in operand order.
    for v in order:
        for index, parent in enumerate(v.parents):
            occurrence = sum(1 for p in v.parents[:index] if p is parent)
            title = f"{svg_name[parent]}->{svg_name[v]}_op"
            group = edges.get(title, [])
            if occurrence >= len(group):
                raise RuntimeError(f"step_through_html: edge {title} missing from draw_graph's SVG")
            group[occurrence][1].set("data-edge-index", str(index))
    by_edge = {}
    for title, group in edges.items():
        for _, g in group:
            if g.get("data-edge-index") is not None:
                by_edge[(title, int(g.get("data-edge-index")))] = g
    for s in steps:
        by_edge[(f"{s['parent']}->{s['node']}_op", s["index"])].set("data-step", str(s["number"]))
    _name_titles(tree, order, svg_name, names)
    tree.set("class", "graph")
    return ET.tostring(tree, encoding="unicode")


def _name_titles(tree, order, svg_name, names):
    """Hover titles in the names of the text (w, n1, dL/dn1 ...), not dot's ids (v0);
    the id each title held is kept as data-id for scripts and tests."""
    q = lambda tag: f"{{{SVG_NS}}}{tag}"  # noqa: E731
    shown = {svg_name[v]: names[v] for v in order}
    for v in order:
        if v.parents:
            shown[svg_name[v] + "_op"] = f"the operation that makes {names[v]}"
    for g in tree.iter(q("g")):
        title = g.find(q("title"))
        if title is None or g.get("class") not in ("node", "edge"):
            continue
        text = title.text or ""
        g.set("data-id", text)
        if g.get("class") == "node":
            title.text = shown.get(text, text)
        else:
            source, _, target = text.partition("->")
            if target.endswith("_op") and source in shown and target[:-3] in shown:
                title.text = f"∂{shown[target[:-3]]}/∂{shown[source]}"
            elif source in shown and target in shown:
                title.text = f"{shown[target]} = its operation's result"


def _json_for_script(data) -> str:
    # Inside <script> only "</" can end the block; escaping every < > & keeps any label
    # (even "</script>") as inert text, and ensure_ascii escapes U+2028/U+2029.
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def step_through_page(root: Value, *, rankdir: str = "LR", parameters=None,
                      title: str | None = None, quiz: bool = False, passes: int = 1,
                      digits: int = DIGITS, marking=None) -> str:
    """The step-through page of root's backward pass as HTML text (see step_through_html)."""
    if not isinstance(root, Value):
        raise TypeError(f"step_through_html needs a Value as root, got {type(root).__name__}")
    _check_marking(quiz, marking)
    dot_binary()  # a clear error if the dot engine is missing, before touching grads
    if title is not None and not isinstance(title, str):
        raise TypeError(f"step_through_html: title must be a str, got {type(title).__name__}")
    if not isinstance(passes, int) or isinstance(passes, bool) or not 1 <= passes <= 5:
        raise ValueError(f"step_through_html: passes must be 1 to 5, got {passes!r}")
    # draw_graph checks rankdir and the size (it is cheap: no layout yet); done before the
    # backward pass so a refused graph keeps its grads.
    draw_graph(root, rankdir=rankdir, parameters=parameters)
    order = topological_order(root)
    _check_labels(order)
    with kept_grads(root):
        derivation = narrate(root, passes=passes)
        # Drawn after the passes, so each record box is sized for the final grad's text.
        svg_bytes = draw_graph(root, rankdir=rankdir, parameters=parameters,
                               legend=False, digits=digits).pipe(format="svg", quiet=True)
    names = derivation.names
    svg_name = {v: node_name(v, i) for i, v in enumerate(order)}
    steps = _step_data(derivation, svg_name, digits, marking if quiz else None)
    svg = _annotate_svg(svg_bytes, [s for s in steps if s["pass"] == 1], order, svg_name,
                        names)
    data = {
        "root": svg_name[root],
        "root_name": names[root],
        "root_grad_text": format_number(1.0, digits),
        "nodes": [svg_name[v] for v in order],
        "leaves": [svg_name[v] for v in order if not v.parents],
        "names": {svg_name[v]: names[v] for v in order},
        "legend": derivation.legend,
        "quiz": bool(quiz),
        "digits": digits,  # the quiz marks answers to at least these figures
        "passes": passes,
        "steps": steps,
    }
    heading = title if title is not None else (
        f"The backward pass of {names[root]}, step by step" + (": quiz" if quiz else ""))
    # the marking script first: step_through.js calls its ChainruleMarking.isRight
    script = (marking.script + "\n" if quiz else "") + _static("step_through.js")
    parts = {"TITLE": html.escape(heading, quote=True), "CSS": _static("step_through.css"),
             "JS": script, "DATA": _json_for_script(data), "SVG": svg}
    # One pass, so a label that happens to read "@SVG@" is never substituted into.
    return re.sub(r"@(TITLE|CSS|JS|DATA|SVG)@", lambda m: parts[m.group(1)],
                  _static("step_through.html"))


def step_through_html(root: Value, path, *, rankdir: str = "LR", parameters=None,
                      title: str | None = None, quiz: bool = False, passes: int = 1,
                      digits: int = DIGITS, marking=None) -> str:
    """Write the step-through page of root's backward pass to `path`; return `path`.

    It replays the backward pass on the graph you pass, from zeroed grads, so the page
    shows d root / d node for this pass alone, and then puts every grad back as it was:
    calling it has no effect on the graph (grads a caller accumulated stay as they are).

    `rankdir` and `parameters` are passed to draw_graph; `title` heads the page; `quiz`
    hides each gradient until it is answered, marked by `marking` (needed with quiz:
    an object with `script`, JavaScript defining `ChainruleMarking.isRight(text,
    answer)`, and `answer(value, digits)`, the JSON-ready answer that function is given
    for each blank; `student.quiz.quiz_html` supplies it); `passes` (1 to 5)
    replays that many backward() calls; `digits` is the significant figures shown.
    Raises TypeError for a root that is not a Value, FileNotFoundError when the folder
    of `path` does not exist, and ValueError for a graph too big to draw (draw_graph's
    max_nodes), a bad rankdir or a label dot cannot draw (NUL); these are checked
    before any grad changes. The file appears whole or not at all.
    """
    if not isinstance(root, Value):
        raise TypeError(f"step_through_html needs a Value as root, got {type(root).__name__}")
    _check_marking(quiz, marking)
    path = _check_target(path)
    page = step_through_page(root, rankdir=rankdir, parameters=parameters, title=title,
                             quiz=quiz, passes=passes, digits=digits, marking=marking)
    write_bytes(path, page.encode("utf-8"))
    return path


class StepThrough:
    """The step-through page shown inline in Jupyter: the same offline page, in an
    iframe that holds its text (srcdoc), so a notebook needs no file and no server.

    `StepThrough(root)` as the last line of a cell shows it (the quiz:
    `student.quiz.StepThroughQuiz(root)`); `.html` is the page itself and
    `.save(path)` writes it. Options as step_through_html, plus the iframe's `height`
    in pixels.
    """

    def __init__(self, root: Value, height: int = 720, **options):
        self.html = step_through_page(root, **options)
        self.height = int(height)

    def _repr_html_(self):
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width: 100%; height: {self.height}px; border: 1px solid #ccc" '
                'sandbox="allow-scripts allow-forms" title="chain rule, step by step"></iframe>')

    def save(self, path) -> str:
        path = _check_target(path)
        write_bytes(path, self.html.encode("utf-8"))
        return path


def _check_marking(quiz, marking):
    if quiz and marking is None:
        raise ValueError("step_through_html: a quiz page needs marking=, what marks the "
                         "typed answers; the student package gives it: "
                         "student.quiz.quiz_html(root, path), quiz_page(root) or, in "
                         "Jupyter, StepThroughQuiz(root)")


def _static(name: str) -> str:
    """One of the page's files in visualize/static (package data)."""
    return resources.files("visualize").joinpath("static", name).read_text(encoding="utf-8")
