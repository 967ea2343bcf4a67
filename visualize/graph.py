"""draw_graph and render: the computation graph with data, grads and edge derivatives."""

from __future__ import annotations

import os
import pathlib
import shutil
import sys
import sysconfig

import graphviz

from autograd_core import Value, files, naming, topological_order
from autograd_core.ops import expand

from .explain import DIGITS, format_number, node_names, symbolic_local

__all__ = ["draw_graph", "render", "dot_binary", "FORMATS", "node_name"]

FORMATS = ("svg", "png")
MAX_NODES = 1500  # dot takes minutes beyond a few thousand nodes; nobody can read it
LEGEND_ROWS = 24  # names listed under a picture; the rest are counted

# Fill colours by role, so a picture tells parameters, inputs and results apart.
STYLE = {
    "parameter": dict(shape="record", style="filled,rounded", fillcolor="#fde9c9"),
    "input": dict(shape="record", style="filled", fillcolor="#d9ecd0"),
    "constant": dict(shape="record", style="filled", fillcolor="#eeeeee", fontcolor="#555555"),
    "result": dict(shape="record", style="filled", fillcolor="#ffffff"),
    "output": dict(shape="record", style="filled,bold", fillcolor="#d6e4f5"),
    "op": dict(shape="circle", style="filled", fillcolor="#fff6b3", fontsize="12",
               width="0.45", fixedsize="false"),
}


class GraphPicture(graphviz.Digraph):
    """A Digraph whose Jupyter display is quiet: graphviz-pure warns about glyph widths
    for symbols like ∂ and σ on stderr, which would print under every notebook cell."""

    def _repr_image_svg_xml(self):
        return self.pipe(format="svg", encoding=self.encoding, quiet=True)


def dot_binary() -> pathlib.Path:
    """graphviz-pure's dot, found beside the running interpreter (else on PATH)."""
    name = "graphviz-pure.exe" if os.name == "nt" else "graphviz-pure"
    for folder in (pathlib.Path(sys.executable).parent, pathlib.Path(sysconfig.get_path("scripts"))):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    if found:
        return pathlib.Path(found)
    raise RuntimeError("cannot find the graphviz-pure dot engine; "
                       "install it with: pip install graphviz-pure==0.2.2")


def _use_graphviz_pure():
    try:
        graphviz.backend.dot_command.DOT_BINARY = dot_binary()
    except RuntimeError:
        pass  # render() says what to install when it is needed


_use_graphviz_pure()


def _visible(ch: str) -> str:
    code = ord(ch)
    if code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def _escape(text: str) -> str:
    """Text shown exactly as typed: control characters and lone surrogates as escapes
    (SVG cannot hold them), &name; not decoded, and record syntax {}|<>" taken literally."""
    text = "".join(map(_visible, text)).replace("&", "&amp;")
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


def _escape_text(text: str) -> str:
    """Text for a plain (non-record) graphviz label: escapes only, record syntax kept."""
    return "".join(map(_visible, text)).replace("&", "&amp;").replace("\\", "\\\\")


def node_name(value: Value, index: int) -> str:
    """The DOT id of a node (never shown: pictures show naming's names)."""
    return f"v{index}"


def _role(value, root, parameters):
    if value is root:
        return "output"
    if value.parents:
        return "result"
    if value in parameters:
        return "parameter"
    if value.label:
        return "input" if parameters else "parameter"
    return "constant"


def draw_graph(root: Value, rankdir: str = "LR", parameters=None, max_nodes: int = MAX_NODES,
               legend: bool = True, grads=None, highlight=None, digits: int = DIGITS):
    """A graphviz.Digraph of everything `root` was computed from.

    One box per Value (name, data, grad), one circle per operation, and on each edge
    from an operand into its operation the local derivative: formula = number. Nodes
    carry the names the step text uses (autograd_core.naming), and with `legend` the
    picture lists what the unlabelled ones stand for (n1 = w * x).
    `parameters` (optional) marks which leaves are trained weights; without it labelled
    leaves are drawn as parameters and unlabelled ones as constants.
    For frames of the backward pass: `grads` maps a node to the text shown after
    "grad" (a node not in it shows its .grad; "" leaves it blank), and `highlight`, a
    NarratedStep, draws the edge it uses thick red and its parent outlined red.
    `digits`: significant figures of every number drawn (data, grad, local derivative).
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph needs a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of LR, RL, TB, BT; got {rankdir!r}")
    order = topological_order(root)
    if len(order) > max_nodes:
        raise ValueError(f"draw_graph: the graph has {len(order)} nodes, more than "
                         f"max_nodes={max_nodes} can be laid out readably; draw a smaller "
                         "graph (one example, a smaller network) or raise max_nodes")
    parameters = set(parameters or ())
    grads = grads or {}
    names = {v: node_name(v, i) for i, v in enumerate(order)}
    shown = node_names(root, order)  # the names the step text uses
    graph_attr = dict(rankdir=rankdir, fontname="Helvetica")
    rows = naming.legend(order, shown) if legend else []
    if rows:
        lines = [f"{_escape_text(name)} = {_escape_text(text)}" for name, text in rows]
        if len(lines) > LEGEND_ROWS:  # a network's legend would be taller than its graph
            lines = lines[:LEGEND_ROWS - 1] + [f"... and {len(lines) - LEGEND_ROWS + 1} more"]
        # \\l ends a left-aligned line in a graphviz label.
        graph_attr.update(label="where " + "\\l      ".join(lines) + "\\l",
                          labelloc="b", labeljust="l", fontsize="11")
    dot = GraphPicture("chainrule", graph_attr=graph_attr,
                       node_attr=dict(fontname="Helvetica", fontsize="11"),
                       edge_attr=dict(fontname="Helvetica", fontsize="9", color="#555555"))
    for v in order:
        # Results and named leaves show their name; a constant shows only its value.
        name = shown[v] if v.parents or v.label or v is root else ""
        grad = grads[v] if v in grads else format_number(v.grad, digits)
        fields = ([_escape(name)] if name else []) + \
                 [f"data {format_number(v.data, digits)}", f"grad {_escape(grad)}"]
        style = dict(STYLE[_role(v, root, parameters)])
        if highlight is not None and v is highlight.parent:
            style.update(color="#d62728", penwidth="3")
        dot.node(names[v], label="{" + " | ".join(fields) + "}", **style)
        if v.parents:
            op_node = names[v] + "_op"
            op_style = dict(STYLE["op"])
            if highlight is not None and v is highlight.node:
                op_style.update(color="#d62728", penwidth="3")
            dot.node(op_node, label=expand(v.op, len(v.parents)).symbol, **op_style)
            dot.edge(op_node, names[v])
            for i, (parent, local) in enumerate(zip(v.parents, v.local_grads)):
                formula = _escape(symbolic_local(v, i, shown))
                edge_style = {}
                if highlight is not None and v is highlight.node and i == highlight.index:
                    edge_style = dict(color="#d62728", penwidth="3", fontcolor="#d62728")
                dot.edge(names[parent], op_node, label=f"∂{_escape(shown[v])}/∂"
                         f"{_escape(shown[parent])} = {formula}\n= {format_number(local, digits)}",
                         **edge_style)
    return dot


def render(root: Value, path, format=None, **draw_options) -> str:
    """Write the picture of root's graph to `path` (svg or png) and return the path.

    The format follows the file's extension (.svg or .png); `format` may say it too, but
    a format that contradicts the extension is refused (no SVG bytes in a .png). A path
    without either extension is written as `format`, svg by default. The file appears
    whole or not at all (autograd_core.files.atomic_write).
    """
    path = os.fspath(path)
    format = picture_format(path, format, "render")
    graph = draw_graph(root, **draw_options)
    files.write_bytes(path, graph.pipe(format=format, quiet=True))
    return path


def picture_format(path: str, format, who: str) -> str:
    """The format to write `path` in, checked before anything is drawn: the extension
    decides (.svg or .png); `format` may say the same; a contradiction, another
    extension, a missing folder or a target that is not a regular file is refused."""
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if format is not None and format not in FORMATS:
        raise ValueError(f"{who}: format must be one of {', '.join(FORMATS)}, got {format!r}")
    if extension and extension not in FORMATS:
        raise ValueError(f"{who}: cannot write a .{extension} picture; name the file "
                         f".svg or .png")
    if extension and format not in (None, extension):
        raise ValueError(f"{who}: the file {os.path.basename(path)!r} ends in .{extension} "
                         f"but format={format!r} was asked for; name it .{format} or leave "
                         "format out")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{who}: the folder {folder!r} does not exist; create it first")
    files.check_writable_target(path)  # a device or folder is refused before drawing
    dot_binary()  # a clear error if the engine is missing
    return extension or format or "svg"
