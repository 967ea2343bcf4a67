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

import os

from .graph import GraphPicture, _escape, picture_format, write_atomically

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
    g = f"{{:.{digits}g}}".format
    sizes = [len(outs[0])] + [len(layer.neurons) for layer in model.layers]
    shown = [_shown(n, max_neurons) for n in sizes]
    largest = max(abs(w.data) for layer in model.layers for n in layer.neurons
                  for w in n.w) or 1.0

    activations = [layer.neurons[0].activation for layer in model.layers]
    title = (f"MLP {'-'.join(map(str, sizes))}  ({', '.join(dict.fromkeys(activations))})"
             + (f";  cost {cost_symbol} = {g(cost)} ({loss})" if cost is not None else "")
             + "\nedges: one per weight, blue w > 0, red w < 0, width |w|"
             + (";  edge labels: dC/dw" if show_grads else ""))
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
    height = {}
    for layer, (n, rows) in enumerate(zip(sizes, shown)):
        top = (tallest - len(rows)) / 2
        kind = "input" if layer == 0 else "output" if layer == len(sizes) - 1 else "hidden"
        for row, j in enumerate(rows):
            # neato reads pos in inches; "!" pins the node there.
            height[layer, j] = -(top + row) * row_gap
            pos = f"{layer * column_gap / 72:.3f},{height[layer, j] / 72:.3f}!"
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
    for layer in range(1, len(sizes)):
        neurons = model.layers[layer - 1].neurons
        for j in (k for k in shown[layer] if k is not None):
            for i in (k for k in shown[layer - 1] if k is not None):
                w = neurons[j].w[i].data
                attrs = dict(color=POSITIVE if w >= 0 else NEGATIVE,
                             penwidth=f"{0.3 + MAX_PEN * abs(w) / largest:.2f}")
                if show_grads:
                    label = neurons[j].w[i].label
                    # Near the head, where edges into a neuron have spread apart, on
                    # the side of the edge away from the edges that cross it.
                    rising = height[layer, j] >= height[layer - 1, i]
                    attrs.update(headlabel=_escape(f"d{cost_symbol}/d{label} = "
                                                   f"{g(wgrads[layer][j][i])}"),
                                 labeldistance="4.5", labelangle="12" if rising else "-12")
                dot.edge(node_id(layer - 1, i), node_id(layer, j), **attrs)
    return dot


def render_network(model, x, path, format=None, **draw_options):
    """Write draw_network(model, x, **draw_options) to `path` and return path; the format
    follows the extension (.svg or .png), as for visualize.render.

    The file appears whole or not at all (written beside the target, then renamed).
    """
    path = os.fspath(path)
    format = picture_format(path, format, "render_network")
    picture = draw_network(model, x, **draw_options)
    write_atomically(path, picture.pipe(format=format, quiet=True))
    return path
