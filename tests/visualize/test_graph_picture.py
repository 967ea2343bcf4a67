"""draw_graph and render: the pictures carry every node's data, grad and edge derivative."""

import os
import re
import xml.etree.ElementTree as ET

import pytest

import nn
from autograd_core import Value, topological_order
from visualize import draw_graph, format_number, render
from visualize.graph import dot_binary

SVG = "{http://www.w3.org/2000/svg}"


def neuron():
    w, x, b = Value(-1.2, label="w"), Value(0.5, label="x"), Value(0.1, label="b")
    z = (w * x + b).sigmoid()
    z.label = "z"
    z.backward()
    return z


def svg_texts(path):
    root = ET.parse(path).getroot()  # raises if the file is not well-formed XML
    assert root.tag == SVG + "svg"
    return [t.text or "" for t in root.iter(SVG + "text")]


def test_render_svg_parses_and_shows_every_data_and_grad(tmp_path):
    z = neuron()
    path = render(z, tmp_path / "g.svg")
    texts = svg_texts(path)
    joined = " ".join(texts)
    for v in topological_order(z):
        assert f"data {format_number(v.data)}" in texts, v
        assert f"grad {format_number(v.grad)}" in texts, v
    for label in ("w", "x", "b", "z"):
        assert label in texts
    assert "∂n1/∂w = x" in joined and "= 0.5" in joined  # d(w*x)/dw = x = 0.5 on an edge
    assert "n1" in texts  # unlabelled results carry the name the edges use


def test_render_png_has_png_signature(tmp_path):
    path = render(neuron(), str(tmp_path / "g.png"), format="png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(path) > 1000


def test_edges_carry_local_derivatives_and_roles_are_styled():
    model = nn.MLP(2, [2, 1], seed=0)
    out = model([0.5, -1.0])
    out.backward()
    source = draw_graph(out, parameters=model.parameters()).source
    edge_labels = re.findall(r'label="∂[^"]*/∂', source)
    assert len(edge_labels) == sum(len(v.parents) for v in topological_order(out))
    assert "#fde9c9" in source   # parameters
    assert "#d9ecd0" in source   # the inputs x1, x2 (labelled leaves that are not parameters)
    assert "Σwx+b" in source and "σ" in source
    assert "rankdir=LR" in source
    assert "rankdir=TB" in draw_graph(out, rankdir="TB").source


def test_labels_with_record_syntax_are_escaped(tmp_path):
    v = Value(1.0, label='a|b{c}<d> "q"') * 2
    v.backward()
    texts = svg_texts(render(v, tmp_path / "e.svg"))
    assert 'a|b{c}<d> "q"' in texts
    w = Value(1.0, label="a&amp;b") * 2  # shown as typed, not decoded as an entity
    assert "a&amp;b" in svg_texts(render(w, tmp_path / "amp.svg"))
    odd = Value(1.0, label="a\x00b\x08\ud800") * 2  # shown as escapes: SVG cannot hold them
    assert "a\\x00b\\x08\\ud800" in svg_texts(render(odd, tmp_path / "odd.svg"))


def test_uses_graphviz_pure_not_a_system_dot():
    import graphviz
    assert graphviz.backend.dot_command.DOT_BINARY == dot_binary()
    assert dot_binary().name.startswith("graphviz-pure")


def test_render_errors(tmp_path):
    z = neuron()
    with pytest.raises(ValueError, match="svg, png"):
        render(z, tmp_path / "g.pdf", format="pdf")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render(z, tmp_path / "missing" / "g.svg")
    with pytest.raises(TypeError, match="Value"):
        draw_graph(3.0)
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(z, rankdir="XY")
    big = Value(0.0)
    for _ in range(100):
        big = big + 1.0
    with pytest.raises(ValueError, match="max_nodes=50"):
        draw_graph(big, max_nodes=50)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_value_shows_its_graph_in_jupyter():
    bundle = neuron()._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Value(")
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")


def test_render_writes_through_symlinks_and_never_replaces_a_device(tmp_path):
    z = neuron()
    target = tmp_path / "target.svg"
    target.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    render(z, link)
    assert link.is_symlink() and target.read_text().startswith("<?xml")
    with pytest.raises(FileExistsError, match="not a regular file"):
        render(z, "/dev/null")
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    with pytest.raises(FileExistsError, match="not a regular file"):
        render(z, tmp_path)  # a folder


def test_draw_graph_is_a_digraph_with_one_node_per_value_and_per_operation():
    import graphviz
    z = neuron()
    graph = draw_graph(z)
    assert isinstance(graph, graphviz.Digraph)
    order = topological_order(z)
    value_nodes = re.findall(r"^\s*v\d+ \[", graph.source, flags=re.M)
    op_nodes = re.findall(r"^\s*v\d+_op \[", graph.source, flags=re.M)
    assert len(value_nodes) == len(order)
    assert len(op_nodes) == sum(1 for v in order if v.parents)
    constant = Value(2.0) * Value(3.0, label="w")  # an unlabelled leaf shows no label field
    assert "{data 2 | grad 0}" in draw_graph(constant).source
