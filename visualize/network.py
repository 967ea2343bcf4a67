"""draw_network: an MLP as the textbook draws it, one node per neuron, one edge per weight.

Where `draw_graph` shows every scalar node of one computation (hundreds for a small
network), this shows the network itself: layers as columns, each neuron with its net
input, its output and (given a target) its delta = dC/dnet from nn.backprop; each weight
an edge whose colour is its sign and whose width its size, with dC/dw on demand.

Neurons are placed on a fixed grid (neato with pinned positions), so they stay in order
and the picture's size follows from the layer sizes alone: a column longer than
`max_neurons` shows its first neurons, a box saying how many are left out and which, and
its last neuron.
"""

from __future__ import annotations

import math
import os

from autograd_core.files import write_bytes
from autograd_core.numbers import format_number

from .graph import GraphPicture, _escape, picture_format

__all__ = ["draw_network", "render_network"]

COLUMN_GAP = 230          # points (1/72 inch) between layer columns
ROW_GAP = 50              # points between neurons in a column
POSITIVE, NEGATIVE = "#2e6fbd", "#c0392b"
FILL = {"input": "#d9ecd0", "hidden": "#ffffff", "output": "#d6e4f5", "more": "#f2f2f2"}
MAX_PEN = 4.0             # the widest edge (the largest |w|), in points


def _shown(n, max_neurons):
    """Which of n neurons get a node; None marks where the summary box goes."""
    if n <= max_neurons:
        return list(range(n))
    head = max_neurons - 2
    return list(range(head)) + [None, n - 1]


def _values(model, x, target, loss):
    """(names, outs, nets, deltas, weight grads, cost) for one example; deltas, grads
    and cost are None without a target."""
    if target is None:
        from nn.layers import Neuron
        layers = model.forward(x)
        names = [model.input_names] + [[n.name or f"n{j + 1}" for j, n in enumerate(layer.neurons)]
                                       for layer in model.layers]
        outs = [[v.data for v in vs] for vs in layers]
        nets = [None] + [[Neuron.net_of(v).data for v in vs] for vs in layers[1:]]
        return names, outs, nets, None, None, None
    from nn.backprop import neuron_backward
    r = neuron_backward(model, x, target, loss=loss)
    return r.names, r.outs, r.nets, r.deltas, r.weight_grads, r.cost


def draw_network(model, x, target=None, loss="sse", show_grads=False, max_neurons=16,
                 digits=3, cost_symbol="C"):
    """A graphviz.Digraph of `model` (an nn.MLP) on the input `x`.

    Each neuron shows its net input and output; with a `target` (see nn.neuron_backward
    for `loss` and the target's form) also its delta, and with `show_grads` each edge is
    labelled with dC/dw. Inputs and neurons carry the model's names (model.input_names,
    neuron.name: x1, L1.h2, out1 unless renamed). Columns longer than `max_neurons`
    (at least 3) are summarised by a box naming the neurons left out.
    """
    from nn.layers import MLP
    if not isinstance(model, MLP):
        raise TypeError(f"draw_network needs an nn.MLP, got {type(model).__name__}")
    if isinstance(max_neurons, bool) or not isinstance(max_neurons, int) or max_neurons < 3:
        raise ValueError(f"draw_network: max_neurons must be an int of at least 3, got "
                         f"{max_neurons!r}")
    if show_grads and target is None:
        raise ValueError("draw_network: show_grads needs a target (dC/dw comes from the "
                         "backward pass of the cost against it)")
    names, outs, nets, deltas, wgrads, cost = _values(model, x, target, loss)
    def g(x):  # every number in the picture as everywhere else: 6.1e-6, never -0
        return format_number(x, digits)
    sizes = [len(outs[0])] + [len(layer.neurons) for layer in model.layers]
    shown = [_shown(n, max_neurons) for n in sizes]
    largest = max(abs(w.data) for layer in model.layers for n in layer.neurons
                  for w in n.w) or 1.0

    activations = [layer.neurons[0].activation for layer in model.layers]
    title = (f"MLP {'-'.join(map(str, sizes))}  ({', '.join(dict.fromkeys(activations))})"
             + (f";  cost {cost_symbol} = {g(cost)} ({loss})" if cost is not None else "")
             + "\nedges: one per weight, blue w > 0, red w < 0, width |w|"
             + (f";  labels on the edges: d{cost_symbol}/dw" if show_grads else ""))
    dot = GraphPicture("network", engine="neato", graph_attr=dict(
        label=title, labelloc="t", fontname="Helvetica", fontsize="12", outputorder="edgesfirst",
        splines="false", forcelabels="true"),
        node_attr=dict(shape="box", style="rounded,filled", fontname="Helvetica", fontsize="10",
                       margin="0.08,0.04"),
        edge_attr=dict(arrowhead="none", fontname="Helvetica", fontsize="8",
                       fontcolor="#333333"))

    def node_id(layer, j):
        return f"L{layer}_{j}"

    tallest = max(len(s) for s in shown)
    row_gap = ROW_GAP if tallest > 4 else 2 * ROW_GAP  # small networks get room for labels
    column_gap = COLUMN_GAP * (1.4 if show_grads else 1.0)
    height, boxes = {}, {}
    for layer, (n, rows) in enumerate(zip(sizes, shown)):
        top = (tallest - len(rows)) / 2
        kind = "input" if layer == 0 else "output" if layer == len(sizes) - 1 else "hidden"
        for row, j in enumerate(rows):
            # neato reads pos in inches; "!" pins the node there.
            height[layer, j] = -(top + row) * row_gap
            pos = f"{layer * column_gap / 72:.3f},{height[layer, j] / 72:.3f}!"
            boxes[node_id(layer, j) if j is not None else f"L{layer}_more"] = (
                layer * column_gap, height[layer, j])
            if j is None:
                left_out = [k for k in range(n) if k not in rows]
                what = "inputs" if layer == 0 else "neurons"
                label = (f"... {len(left_out)} more {what}\n"
                         f"{_escape(names[layer][left_out[0]])} to "
                         f"{_escape(names[layer][left_out[-1]])}\n(their weights not drawn)")
                dot.node(f"L{layer}_more", label=label, pos=pos, fillcolor=FILL["more"],
                         style="rounded,filled,dashed", fontcolor="#555555")
                continue
            if layer == 0:
                label = f"{_escape(names[0][j])}\n{g(outs[0][j])}"
            else:
                lines = [_escape(names[layer][j]),
                         f"net {g(nets[layer][j])}  out {g(outs[layer][j])}"]
                if deltas is not None:
                    lines.append(f"δ {g(deltas[layer][j])}")
                label = "\n".join(lines)
            dot.node(node_id(layer, j), label=label, pos=pos, fillcolor=FILL[kind])
    for layer, n in enumerate(sizes):
        heading = ("input" if layer == 0 else "output" if layer == len(sizes) - 1
                   else f"layer {layer}")
        if layer:
            heading += f": {activations[layer - 1]}"
        dot.node(f"L{layer}_heading", label=f"{heading} ({n})", shape="plaintext",
                 style="", fontcolor="#555555",
                 pos=f"{layer * column_gap / 72:.3f},{ROW_GAP * 0.8 / 72:.3f}!")
    segments = {}  # (tail id, head id) -> the edge's two ends, in points
    for layer in range(1, len(sizes)):
        neurons = model.layers[layer - 1].neurons
        for j in (k for k in shown[layer] if k is not None):
            for i in (k for k in shown[layer - 1] if k is not None):
                w = neurons[j].w[i].data
                dot.edge(node_id(layer - 1, i), node_id(layer, j),
                         color=POSITIVE if w >= 0 else NEGATIVE,
                         penwidth=f"{0.3 + MAX_PEN * abs(w) / largest:.2f}")
                segments[node_id(layer - 1, i), node_id(layer, j)] = (
                    ((layer - 1) * column_gap, height[layer - 1, i]),
                    (layer * column_gap, height[layer, j]))
    if show_grads:
        labels = {}
        for layer in range(1, len(sizes)):
            neurons = model.layers[layer - 1].neurons
            for j in (k for k in shown[layer] if k is not None):
                for i in (k for k in shown[layer - 1] if k is not None):
                    labels[node_id(layer - 1, i), node_id(layer, j)] = _escape(
                        f"d{cost_symbol}/d{neurons[j].w[i].label} = {g(wgrads[layer][j][i])}")
        _place_edge_labels(dot, labels, segments, boxes)
    return dot


LABEL_ATTRS = dict(shape="plaintext", fontsize="8", fontcolor="#333333", style="filled",
                   fillcolor="#ffffffd9", margin="0.02,0.01", width="0", height="0")
# Where along its edge (0 at the tail, 1 at the head) a label may sit, in order of
# preference: a little past the middle, where the edges into one neuron have not yet met.
LABEL_PLACES = sorted((k / 50 for k in range(5, 46)), key=lambda t: abs(t - 0.6))
CLEARANCE = 8.0  # points kept free around a neuron's box, so a label is not read as part of it
EDGE_CLEARANCE = 5.0  # points between a label and the other edges, where there is room
CELL = 40.0      # points: the grid that finds what is near a place without looking at all
CROWDED = 64     # labels


def _place_edge_labels(dot, labels, segments, boxes):
    """Write each edge's label as a small node on the edge itself, at the first place
    along it (LABEL_PLACES) where it covers no neuron, no other label and as few other
    edges as can be; where no place on the edge is free, just beside it. Graphviz's own
    head labels sat on the neurons' boxes and on each other in small networks. The
    boxes' sizes are graphviz's, from a layout of the same nodes. `segments`: each
    edge's ends, `boxes`: each neuron's (and summary's) centre, in points."""
    size = _box_sizes(dot, labels)
    neurons, placed, lines = _Grid(), _Grid(), _Grid()
    for name, centre in boxes.items():
        neurons.add(_box(centre, *size[name], CLEARANCE), None)
    for edge, (start, end) in segments.items():
        lines.add_line(start, end, (edge, start, end))
    # Beyond this many labels they cover each other whatever the places (show_grads
    # suits small networks): each only keeps clear of the neurons, which is quick.
    crowded = len(labels) > CROWDED
    for number, (edge, text) in enumerate(labels.items()):
        (x0, y0), (x1, y1) = segments[edge]
        width, height = size[f"dw{number}"]
        best = None
        # on the edge first; beside it (above, then below) only when that is all full
        for rank, (t, shift) in enumerate([(t, 0.0) for t in LABEL_PLACES]
                                          + [(t, s * (height + 2)) for t in LABEL_PLACES
                                             for s in (1, -1)]):
            if shift and best[0][:2] == [0, 0]:
                break  # a place on its edge that hides nothing, if across an edge
            box = _box((x0 + t * (x1 - x0), y0 + t * (y1 - y0) + shift), width, height, 1.0)
            # a neuron hidden is worse than a label, a label worse than an edge crossed
            score = [sum(_overlap(box, other) for other, _ in neurons.near(box)),
                     sum(_overlap(box, other) for other, _ in placed.near(box)), 0, rank]
            if crowded and score[0] == 0:
                best = (score, box)
                break
            if best is not None and score[:2] > best[0][:2]:
                continue
            # an edge passing just beside a label reads as crossing it too
            wide = (box[0] - EDGE_CLEARANCE, box[1] - EDGE_CLEARANCE,
                    box[2] + EDGE_CLEARANCE, box[3] + EDGE_CLEARANCE)
            score[2] = sum(_crosses(wide, a, b) for _, (other, a, b) in lines.near(wide)
                           if other != edge)
            if best is None or score < best[0]:
                best = (score, box)
            if score[:3] == [0, 0, 0]:
                break
        box = best[1]
        placed.add(box, None)
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        dot.node(f"dw{number}", label=text, pos=f"{cx / 72:.3f},{cy / 72:.3f}!",
                 tooltip=f"the weight {edge[0]} -> {edge[1]}", **LABEL_ATTRS)


class _Grid:
    """Boxes (x0, y0, x1, y1) with a payload, found by the CELL-sized cells they touch."""

    def __init__(self):
        self.cells = {}

    def _cells(self, box):
        for i in range(int(box[0] // CELL), int(box[2] // CELL) + 1):
            for j in range(int(box[1] // CELL), int(box[3] // CELL) + 1):
                yield i, j

    def add(self, box, payload):
        item = (box, payload)
        for cell in self._cells(box):
            self.cells.setdefault(cell, []).append(item)

    def add_line(self, start, end, payload):
        """A segment, in the cells it passes through (sampled every quarter cell)."""
        item = (None, payload)
        steps = int(math.hypot(end[0] - start[0], end[1] - start[1]) / (CELL / 4)) + 1
        cells = {(int((start[0] + k / steps * (end[0] - start[0])) // CELL),
                  int((start[1] + k / steps * (end[1] - start[1])) // CELL))
                 for k in range(steps + 1)}
        for cell in cells:
            self.cells.setdefault(cell, []).append(item)

    def near(self, box):
        found = []
        for cell in self._cells(box):
            found.extend(self.cells.get(cell, ()))
        return {id(item): item for item in found}.values() if len(found) > 1 else found


def _box_sizes(dot, labels):
    """{node id: (width, height) in points} as graphviz sizes the picture's boxes and
    the labels (one quick layout of the nodes alone, every one pinned)."""
    import json
    sizer = GraphPicture("sizes", engine="neato", graph_attr=dot.graph_attr,
                         node_attr=dot.node_attr)
    sizer.body = [line for line in dot.body if "->" not in line]
    for number, text in enumerate(labels.values()):
        sizer.node(f"dw{number}", label=text, pos=f"0,{-number}!", **LABEL_ATTRS)
    layout = json.loads(sizer.pipe(format="json", quiet=True))
    return {item["name"]: (float(item["width"]) * 72, float(item["height"]) * 72)
            for item in layout.get("objects", [])}


def _box(center, width, height, pad):
    x, y = center
    return (x - width / 2 - pad, y - height / 2 - pad, x + width / 2 + pad, y + height / 2 + pad)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _crosses(box, start, end) -> bool:
    """Does the segment start-end pass through the box? (Liang-Barsky clipping)"""
    (x0, y0), (x1, y1) = start, end
    low, high = 0.0, 1.0
    for p, q in ((x0 - x1, x0 - box[0]), (x1 - x0, box[2] - x0),
                 (y0 - y1, y0 - box[1]), (y1 - y0, box[3] - y0)):
        if p == 0:
            if q < 0:
                return False
            continue
        r = q / p
        if p < 0:
            low = max(low, r)
        else:
            high = min(high, r)
        if low > high:
            return False
    return True


def render_network(model, x, path, format=None, **draw_options):
    """Write draw_network(model, x, **draw_options) to `path` and return path; the format
    follows the extension (.svg or .png), as for visualize.render.

    The file appears whole or not at all (written beside the target, then renamed).
    """
    path = os.fspath(path)
    format = picture_format(path, format, "render_network")
    picture = draw_network(model, x, **draw_options)
    write_bytes(path, picture.pipe(format=format, quiet=True))
    return path
