"""step_through_html: one offline HTML page that walks a class through the backward pass.

The page holds the graph as inline SVG (drawn by draw_graph), the chain-rule steps as
JSON and a little JavaScript that replays them: Prev / Next / Play / Reset and the
arrow keys. Nothing is fetched: no CDN, no server, so it works from a USB stick in a
lecture hall.

What a step shows:
- step 0 is the forward pass alone: every value, every local derivative on the edges,
  and no gradients at all (the root's too is blank);
- at step k (1..N, the order backward() applies them) the edge carrying the gradient
  (parent -> operation) is drawn thick red, the node receiving gradient is outlined
  red, the node it flows from is outlined blue; the panel shows the exact line
  `explain.step_line` prints for that step and the counter "step k / N";
- the grads shown are those accumulated so far in this pass; the root shows 1 from
  step 1 on (the seed dL/dL = 1 is the first thing the backward pass does).
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import xml.etree.ElementTree as ET

from autograd_core import Value, topological_order
from autograd_core.ops import op_info

from . import graph
from .explain import explain_backward, node_names

__all__ = ["step_through_html"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


def _fmt(x: float) -> str:
    # The same format draw_graph uses for "grad X", so the page and a rendered SVG agree.
    return f"{x:.4g}"


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


def _collect_steps(root, order, names):
    """Run the backward pass (trace_backward) and record every step for the page."""
    svg_name = {v: graph.node_name(v, i) for i, v in enumerate(order)}
    so_far = {}  # grads accumulated in this pass only, whatever the leaves held before
    steps = []
    for step, line in explain_backward(root):
        parent, node = step.parent, step.node
        so_far[parent] = so_far.get(parent, 0.0) + step.contribution
        grad = so_far[parent]
        steps.append({
            "number": step.number,
            "node": svg_name[node],
            "parent": svg_name[parent],
            "index": step.index,
            "node_name": names[node],
            "parent_name": names[parent],
            "op": node.op if node.op.startswith("**") else op_info(node.op).symbol,
            "upstream": _finite_or_none(step.upstream),
            "local": _finite_or_none(step.local),
            "contribution": _finite_or_none(step.contribution),
            "grad": _finite_or_none(grad),
            "grad_text": _fmt(grad),
            "line": line,
        })
    return steps, svg_name


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
    tree.set("class", "graph")
    return ET.tostring(tree, encoding="unicode")


def _json_for_script(data) -> str:
    # Inside <script> only "</" can end the block; escaping every < > & keeps any label
    # (even "</script>") as inert text, and ensure_ascii escapes U+2028/U+2029.
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def step_through_html(root: Value, path, *, rankdir: str = "LR", parameters=None,
                      title: str | None = None) -> str:
    """Write the step-through page of root's backward pass to `path`; return `path`.

    It replays the backward pass on the graph you pass, from zeroed grads, so the page
    shows d root / d node for this pass alone, and then puts every grad back as it was:
    calling it has no effect on the graph (grads a caller accumulated stay as they are).

    `rankdir` and `parameters` are passed to draw_graph; `title` heads the page.
    Raises TypeError for a root that is not a Value, FileNotFoundError when the folder
    of `path` does not exist, and ValueError for a graph too big to draw (draw_graph's
    max_nodes), a bad rankdir or a label dot cannot draw (NUL); these are checked
    before any grad changes. The file appears whole or not at all.
    """
    if not isinstance(root, Value):
        raise TypeError(f"step_through_html needs a Value as root, got {type(root).__name__}")
    path = _check_target(path)
    graph.dot_binary()  # a clear error if the dot engine is missing, before touching grads
    if title is not None and not isinstance(title, str):
        raise TypeError(f"step_through_html: title must be a str, got {type(title).__name__}")
    # draw_graph checks rankdir and the size (it is cheap: no layout yet); done before the
    # backward pass so a refused graph keeps its grads.
    graph.draw_graph(root, rankdir=rankdir, parameters=parameters)
    order = topological_order(root)
    _check_labels(order)
    names = node_names(root, order)
    saved = [v.grad for v in order]
    try:
        for v in order:
            v.grad = 0.0
        steps, svg_name = _collect_steps(root, order, names)
        # Drawn after the pass, so each record box is sized for the final grad's text.
        svg_bytes = graph.draw_graph(root, rankdir=rankdir, parameters=parameters).pipe(
            format="svg", quiet=True)
    finally:
        for v, grad in zip(order, saved):
            v.grad = grad
    svg = _annotate_svg(svg_bytes, steps, order, svg_name, names)
    data = {
        "root": svg_name[root],
        "root_name": names[root],
        "root_grad_text": _fmt(1.0),
        "nodes": [svg_name[v] for v in order],
        "names": {svg_name[v]: names[v] for v in order},
        "steps": steps,
    }
    heading = title if title is not None else f"The backward pass of {names[root]}, step by step"
    parts = {"TITLE": html.escape(heading, quote=True), "CSS": _CSS, "JS": _JS,
             "DATA": _json_for_script(data), "SVG": svg}
    # One pass, so a label that happens to read "@SVG@" is never substituted into.
    page = re.sub(r"@(TITLE|CSS|JS|DATA|SVG)@", lambda m: parts[m.group(1)], _TEMPLATE)
    graph.write_atomically(path, page.encode("utf-8"))
    return path


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>@CSS@</style>
</head>
<body>
<header>
  <h1>@TITLE@</h1>
  <div id="controls">
    <button id="reset" type="button" title="back to the forward pass (Home)">&#x21BA; Reset</button>
    <button id="prev" type="button" title="previous step (left arrow)">&#x25C0; Prev</button>
    <button id="play" type="button" title="play the steps one per second">&#x25B6; Play</button>
    <button id="next" type="button" title="next step (right arrow)">Next &#x25B6;</button>
    <span id="step-counter" aria-live="polite">step 0 / 0</span>
    <label id="fit-label"><input id="fit" type="checkbox" checked> fit graph to window</label>
  </div>
  <div id="panel">
    <div id="step-line"></div>
    <div id="step-note"></div>
  </div>
  <div id="legend">
    <span><i class="swatch edge-swatch"></i>gradient flowing along this edge</span>
    <span><i class="swatch recv-swatch"></i>node receiving gradient</span>
    <span><i class="swatch src-swatch"></i>node it flows from</span>
    <span>&#x2190; / &#x2192; keys step; edge labels are the local derivatives</span>
  </div>
</header>
<main>
<div id="graph">@SVG@</div>
<details id="history-box" open><summary>Steps so far</summary><ol id="history"></ol></details>
</main>
<script type="application/json" id="chainrule-data">@DATA@</script>
<script>@JS@</script>
</body>
</html>
"""

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { position: sticky; top: 0; z-index: 2; background: #fff; border-bottom: 1px solid #ccc;
         padding: 10px 16px 8px; }
h1 { font-size: 20px; margin: 0 0 8px; }
#controls { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
button { font-size: 16px; padding: 6px 14px; border: 1px solid #888; border-radius: 6px;
         background: #f2f2f2; cursor: pointer; }
button:hover:not(:disabled) { background: #e2e8f2; }
button:disabled { color: #aaa; cursor: default; }
#step-counter { font-size: 18px; font-weight: bold; margin-left: 10px; min-width: 8em; }
#fit-label { margin-left: auto; font-size: 14px; color: #555; }
#panel { margin-top: 8px; padding: 10px 14px; background: #fff8f6; border: 2px solid #d62728;
         border-radius: 8px; }
#step-line { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 19px;
             white-space: pre-wrap; word-break: break-word; color: #111; min-height: 1.3em; }
#step-note { font-size: 15px; color: #444; margin-top: 4px; }
#legend { font-size: 13px; color: #555; margin-top: 6px; display: flex; gap: 18px;
          flex-wrap: wrap; }
.swatch { display: inline-block; width: 22px; height: 10px; margin-right: 5px;
          vertical-align: middle;
          border-radius: 3px; }
.edge-swatch { background: #d62728; height: 5px; }
.recv-swatch { border: 3px solid #d62728; background: #ffe3e0; }
.src-swatch { border: 3px dashed #1f5fbf; background: #fff; }
main { padding: 12px 16px; }
#graph { overflow: auto; background: #fff; border: 1px solid #ddd; border-radius: 6px;
         padding: 6px; }
#graph.fit svg { max-width: 100%; height: auto; }
svg.graph text.grad { font-weight: bold; fill: #0b6e2e; }
svg.graph text.grad.blank { font-weight: normal; fill: #888; }
svg.graph g.edge.active path { stroke: #d62728; stroke-width: 4; }
svg.graph g.edge.active polygon { stroke: #d62728; fill: #d62728; stroke-width: 2; }
svg.graph g.edge.active text { fill: #d62728; font-weight: bold; }
svg.graph g.edge.flow-out path { stroke: #1f5fbf; stroke-width: 3; }
svg.graph g.edge.flow-out polygon { stroke: #1f5fbf; fill: #1f5fbf; }
svg.graph g.node.receiving path, svg.graph g.node.receiving polygon,
svg.graph g.node.receiving ellipse { stroke: #d62728; stroke-width: 4; fill: #ffe3e0; }
svg.graph g.node.receiving text.grad { fill: #d62728; }
svg.graph g.node.source path, svg.graph g.node.source polygon, svg.graph g.node.source ellipse
  { stroke: #1f5fbf; stroke-width: 3; stroke-dasharray: 6 3; }
svg.graph g.node.active-op ellipse { stroke: #d62728; stroke-width: 4; fill: #ffd0c9; }
#history-box { margin-top: 12px; font-size: 14px; }
#history { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; max-height: 16em;
           overflow: auto; margin: 6px 0; }
#history li { white-space: pre-wrap; cursor: pointer; }
#history li.current { background: #ffe3e0; font-weight: bold; }
"""

_JS = r"""
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("chainrule-data").textContent);
  var steps = DATA.steps, N = steps.length, current = 0, timer = null;
  var svg = document.querySelector("#graph svg");
  var graphBox = document.getElementById("graph");
  var gradText = {}, nodeEl = {};
  Array.prototype.forEach.call(svg.querySelectorAll("g.node[data-name]"), function (g) {
    nodeEl[g.getAttribute("data-name")] = g;
    var t = g.querySelector("text.grad");
    if (t) { gradText[g.getAttribute("data-name")] = t; }
  });
  var edgeForStep = {}, outEdge = {};
  Array.prototype.forEach.call(svg.querySelectorAll("g.edge[data-step]"), function (g) {
    edgeForStep[g.getAttribute("data-step")] = g;
  });
  Array.prototype.forEach.call(svg.querySelectorAll("g.edge[data-out]"), function (g) {
    outEdge[g.getAttribute("data-out")] = g;
  });
  var history = document.getElementById("history"), items = [];
  steps.forEach(function (s) {
    var li = document.createElement("li");
    li.textContent = s.line;  // textContent: labels are shown as text, never parsed
    li.style.display = "none";
    li.title = "go to step " + s.number;
    li.addEventListener("click", function () { stop(); show(s.number); });
    history.appendChild(li);
    items.push(li);
  });
  var $ = function (id) { return document.getElementById(id); };

  function clearHighlights() {
    var marks = ["active", "flow-out", "receiving", "source", "active-op"];
    Array.prototype.forEach.call(svg.querySelectorAll("." + marks.join(", .")), function (el) {
      marks.forEach(function (m) { el.classList.remove(m); });
    });
  }

  function show(k) {
    current = Math.max(0, Math.min(N, k));
    var shown = {};
    if (current >= 1) { shown[DATA.root] = DATA.root_grad_text; }
    for (var i = 0; i < current; i++) { shown[steps[i].parent] = steps[i].grad_text; }
    DATA.nodes.forEach(function (name) {
      var t = gradText[name];
      if (t) {
        t.textContent = "grad " + (name in shown ? shown[name] : "");
        t.classList.toggle("blank", !(name in shown));
      }
    });
    clearHighlights();
    $("step-counter").textContent = "step " + current + " / " + N;
    if (current === 0) {
      $("step-line").textContent = "Forward pass: every value is computed, no gradient yet.";
      $("step-note").textContent = N ? "Press Next (or \u2192) to start the backward pass: "
        + "it seeds d" + DATA.root_name + "/d" + DATA.root_name
        + " = 1 and applies the chain rule edge by edge."
        : "The root has no inputs: there is nothing to propagate.";
    } else {
      var s = steps[current - 1];
      var edge = edgeForStep[String(s.number)];
      if (edge) { edge.classList.add("active"); }
      if (outEdge[s.node]) { outEdge[s.node].classList.add("flow-out"); }
      if (nodeEl[s.node + "_op"]) { nodeEl[s.node + "_op"].classList.add("active-op"); }
      if (nodeEl[s.node]) { nodeEl[s.node].classList.add("source"); }
      if (nodeEl[s.parent]) { nodeEl[s.parent].classList.add("receiving"); }
      $("step-line").textContent = s.line;
      var note = "Gradient flows from " + s.node_name + " back through its '" + s.op
        + "' into " + s.parent_name + "; grad of " + s.parent_name + " is now " + s.grad_text + ".";
      if (current === 1) {
        note = "Seed: d" + DATA.root_name + "/d" + DATA.root_name + " = 1. " + note;
      }
      $("step-note").textContent = note;
      reveal(nodeEl[s.parent]);
    }
    items.forEach(function (li, i) {
      li.style.display = i < current ? "" : "none";
      li.className = i === current - 1 ? "current" : "";
    });
    if (current > 0) { history.scrollTop = history.scrollHeight; }
    $("prev").disabled = current === 0;
    $("reset").disabled = current === 0;
    $("next").disabled = current === N;
    $("play").disabled = current === N && timer === null;
    document.body.setAttribute("data-step", String(current));
  }

  // Big graphs do not fit on screen: bring the receiving node into view when it is
  // hidden (under the sticky header, below the window or scrolled out of the box).
  function reveal(el) {
    if (!el || !el.scrollIntoView) { return; }
    var r = el.getBoundingClientRect(), box = graphBox.getBoundingClientRect();
    var top = document.querySelector("header").getBoundingClientRect().bottom;
    if (r.top < Math.max(top, box.top) || r.bottom > Math.min(window.innerHeight, box.bottom)
        || r.left < box.left || r.right > box.right) {
      el.scrollIntoView({block: "center", inline: "center"});
    }
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    $("play").textContent = "\u25B6 Play";
  }
  function play() {
    if (timer !== null) { stop(); show(current); return; }
    if (current === N) { show(0); }
    $("play").textContent = "\u23F8 Pause";
    timer = setInterval(function () {
      if (current >= N) { stop(); show(current); return; }
      show(current + 1);
    }, 1000);
  }

  $("next").addEventListener("click", function () { stop(); show(current + 1); });
  $("prev").addEventListener("click", function () { stop(); show(current - 1); });
  $("reset").addEventListener("click", function () { stop(); show(0); });
  $("play").addEventListener("click", play);
  $("fit").addEventListener("change", function () {
    graphBox.classList.toggle("fit", this.checked);
  });
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (e.key === "ArrowRight") { stop(); show(current + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { stop(); show(current - 1); e.preventDefault(); }
    else if (e.key === "Home") { stop(); show(0); e.preventDefault(); }
  });
  graphBox.classList.add("fit");
  show(0);
}());
"""
