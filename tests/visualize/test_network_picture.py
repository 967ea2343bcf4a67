"""visualize.draw_network: one node per neuron, one edge per weight, numbers from the model
and the engine, and pictures that fit on a screen."""

import re
import struct

import pytest

import nn
from visualize import draw_network, render_network


def nodes(source):
    """{node id: label} of the DOT source (neurons, inputs, summaries, headings)."""
    return dict(re.findall(r'^\s*(L\d+_\w+) \[label="((?:[^"\\]|\\.)*)"', source, re.M))


def edges(source):
    """[(tail, head, attributes text)]."""
    return re.findall(r"^\s*(L\d+_\d+) -> (L\d+_\d+) \[(.*)\]$", source, re.M)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_one_node_per_neuron_one_edge_per_weight_in_sign_colour_and_size_width():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    source = draw_network(model, [0.5, -1.0]).source
    ids = nodes(source)
    assert sum(1 for k in ids if re.fullmatch(r"L\d+_\d+", k)) == 2 + 16 + 16 + 1
    drawn = edges(source)
    assert len(drawn) == 2 * 16 + 16 * 16 + 16
    widths = []
    for tail, head, attrs in drawn:
        (lt, i), (lh, j) = (map(int, tail[1:].split("_")), map(int, head[1:].split("_")))
        assert lh == lt + 1
        w = model.layers[lh - 1].neurons[j].w[i].data
        assert ('color="#2e6fbd"' if w >= 0 else 'color="#c0392b"') in attrs
        widths.append((abs(w), float(re.search(r"penwidth=([\d.]+)", attrs).group(1))))
    widths.sort()
    assert [p for _, p in widths] == sorted(p for _, p in widths)  # wider for larger |w|
    assert widths[0][1] < 1.0 < 4.0 <= widths[-1][1]


def test_neurons_show_net_and_output_and_with_a_target_the_engines_delta():
    model = nn.MLP(2, [3, 2], seed=1)
    x, target = [0.4, -0.3], [0.0, 1.0]
    ids = nodes(draw_network(model, x, target=target, digits=6).source)
    layers = model.forward(x)
    out = layers[-1]
    loss = nn.sse_loss(out, target)
    loss.backward()
    for layer in (1, 2):
        for j, value in enumerate(layers[layer]):
            net = nn.Neuron.net_of(value)
            label = ids[f"L{layer}_{j}"]
            assert label.startswith(value.label + "\n")
            assert f"net {net.data:.6g}  out {value.data:.6g}" in label
            assert f"δ {net.grad:.6g}" in label      # delta = dC/dnet from backward()
    assert ids["L0_0"] == "x1\n0.4" and ids["L0_1"] == "x2\n-0.3"
    no_target = nodes(draw_network(model, x).source)
    assert "δ" not in no_target["L1_0"]


def test_dc_dw_on_demand_equals_the_engines_grad():
    model = nn.MLP(2, [2, 2], seed=2)
    x, target = [0.05, 0.1], [0.01, 0.99]
    source = draw_network(model, x, target=target, show_grads=True, digits=8).source
    nn.sse_loss(model(x), target).backward()
    drawn = edges(source)
    assert len(drawn) == 8
    labels = edge_labels(source)
    assert sorted(labels) == sorted((tail, head) for tail, head, _ in drawn)
    for tail, head, attrs in drawn:
        i, j = int(tail.split("_")[1]), int(head.split("_")[1])
        w = model.layers[int(head[1]) - 1].neurons[j].w[i]
        assert labels[tail, head] == f"dC/d{w.label} = {w.grad:.8g}"
    assert not edge_labels(draw_network(model, x, target=target).source)


def edge_labels(source):
    """{(tail, head): the dC/dw label drawn on that edge}."""
    return {(tail, head): text for text, tail, head in re.findall(
        r'^\s*dw\d+ \[label="([^"]*)".*tooltip="the weight (\S+) -> (\S+)"', source, re.M)}


def laid_out(picture):
    """{node name: (x0, y0, x1, y1) in points} as graphviz lays the picture out."""
    import json
    boxes = {}
    for item in json.loads(picture.pipe(format="json", quiet=True))["objects"]:
        x, y = map(float, item["pos"].split(","))
        w, h = float(item["width"]) * 36, float(item["height"]) * 36
        boxes[item["name"]] = (x - w, y - h, x + w, y + h)
    return boxes


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("name", ["2-2-1", "Mazur 2-2-2", "3-4-2"])
def test_dc_dw_labels_sit_on_their_edges_clear_of_the_boxes(name):
    # graphviz's head labels sat on the neurons' boxes and on each other (2-2-1, Mazur).
    from chainrule.demos import MAZUR_INPUTS, MAZUR_TARGETS, mazur_model
    model, x, target, symbol = {
        "2-2-1": (nn.MLP(2, [2, 1], seed=0), [0.5, -1.0], 1.0, "C"),
        "Mazur 2-2-2": (mazur_model(), MAZUR_INPUTS, MAZUR_TARGETS, "E"),
        "3-4-2": (nn.MLP(3, [4, 2], seed=1), [0.5, -1.0, 2.0], [1.0, 0.0], "C")}[name]
    picture = draw_network(model, x, target=target, show_grads=True, cost_symbol=symbol)
    assert f"labels on the edges: d{symbol}/dw" in picture.graph_attr["label"]
    boxes = laid_out(picture)
    labels = {k: v for k, v in boxes.items() if k.startswith("dw")}
    neurons = {k: v for k, v in boxes.items() if re.fullmatch(r"L\d+_\d+", k)}
    assert len(labels) == len(edges(picture.source))
    ends = {name: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for name, b in neurons.items()}
    owner = {f"dw{n}": edge for n, edge in enumerate(edge_labels(picture.source))}
    for label, box in labels.items():
        assert not [n for n, b in neurons.items() if _overlap(box, b)], (name, label)
        if name != "3-4-2":  # there, 12 labels share one gap: some touch
            assert not [o for o, b in labels.items() if o != label and _overlap(box, b)]
        # on its own edge, or just beside it: the edge passes within a label's height
        (x0, y0), (x1, y1) = ends[owner[label][0]], ends[owner[label][1]]
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        distance = abs((y1 - y0) * cx - (x1 - x0) * cy + x1 * y0 - y1 * x0) / \
            ((y1 - y0) ** 2 + (x1 - x0) ** 2) ** 0.5
        assert distance <= (box[3] - box[1]) * 1.6, (name, label, distance)


def test_long_columns_are_summarised_by_name_not_dropped():
    model = nn.MLP(64, [25, 10], output_activation="sigmoid", seed=0)
    x = [i / 64 for i in range(64)]
    source = draw_network(model, x, target=[0.0] * 9 + [1.0], loss="sigmoid_bce").source
    ids = nodes(source)
    assert [k for k in ids if k.startswith("L0_") and k[3:].isdigit()] == \
        [f"L0_{i}" for i in list(range(14)) + [63]]
    assert ids["L0_more"] == "... 49 more inputs\nx15 to x63\n(their weights not drawn)"
    assert ids["L1_more"] == "... 10 more neurons\nL1.h15 to L1.h24\n(their weights not drawn)"
    assert sum(1 for k in ids if k.startswith("L2_") and k[3:].isdigit()) == 10
    assert len(edges(source)) == 15 * 15 + 15 * 10
    assert "input (64)" in ids["L0_heading"] and "layer 1: sigmoid (25)" in ids["L1_heading"]


@pytest.mark.parametrize("sizes, nin", [([16, 16, 1], 2), ([25, 10], 64)])
def test_big_networks_fit_on_a_screen(tmp_path, sizes, nin):
    model = nn.MLP(nin, sizes, seed=0)
    path = render_network(model, [0.1] * nin, tmp_path / "n.png", format="png",
                          target=[0.0] * sizes[-1])
    width, height = png_size(path)
    assert width <= 2000 and height <= 1300, (width, height)


def test_user_names_are_drawn():
    model = nn.MLP(2, [2, 1], seed=0)
    model.input_names = ["hours", "sleep"]
    model.layers[0].neurons[1].name = "tired"
    ids = nodes(draw_network(model, [1.0, 2.0]).source)
    assert ids["L0_0"].startswith("hours") and ids["L1_1"].startswith("tired\n")
    assert ids["L2_0"].startswith("out1\n")


def test_render_network_writes_svg(tmp_path):
    path = render_network(nn.MLP(2, [2, 1], seed=0), [1.0, 2.0], tmp_path / "n.svg")
    text = open(path, encoding="utf-8").read()
    assert text.lstrip().startswith("<?xml") and "L1.h2" in text


@pytest.mark.parametrize("call,error,match", [
    (lambda: draw_network(nn.Neuron(2), [1.0, 2.0]), TypeError, "needs an nn.MLP"),
    (lambda: draw_network(nn.MLP(2, [1]), [1.0, 2.0], max_neurons=2), ValueError,
     "max_neurons must be an int of at least 3"),
    (lambda: draw_network(nn.MLP(2, [1]), [1.0, 2.0], show_grads=True), ValueError,
     "show_grads needs a target"),
    (lambda: draw_network(nn.MLP(2, [1]), [1.0], target=0.5), ValueError, "expects 2 inputs"),
    (lambda: render_network(nn.MLP(2, [1]), [1.0, 2.0], "n.pdf", format="pdf"), ValueError,
     "format must be one of svg, png"),
    (lambda: render_network(nn.MLP(2, [1]), [1.0, 2.0], "/no/such/dir/n.svg"),
     FileNotFoundError, "does not exist"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_names_are_drawn_exactly_as_typed(tmp_path):
    import html
    model = nn.MLP(2, [2, 1], seed=0)
    model.layers[0].neurons[0].name = 'a"b{c}|<d>&amp;'
    svg = open(render_network(model, [1.0, 2.0], tmp_path / "n.svg"), encoding="utf-8").read()
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    assert 'a"b{c}|<d>&amp;' in texts


def test_render_network_writes_the_format_its_extension_names(tmp_path):
    # It wrote SVG bytes into n.png; pictures of networks follow render()'s rule.
    from visualize import render_network
    model = nn.MLP(2, [2, 1], seed=0)
    png = render_network(model, [0.5, 0.2], tmp_path / "n.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    for bad in ("n.jpg", "n.svg"):
        with pytest.raises(ValueError):
            render_network(model, [0.5, 0.2], tmp_path / bad, format="png" if bad == "n.svg" else None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.png"]
