"""The step-through page as a file: self-contained, data equal to the engine's, escaped, errors.

The browser side (buttons, keys, what is drawn) is in test_step_through_browser.py.
"""

import html
import json
import math
import os
import re

import pytest
from hypothesis import given, settings, strategies as st

import nn
from autograd_core import Value, topological_order, trace_backward
from autograd_core.numbers import format_number
from visualize import step_through_html
from visualize.graph import MAX_NODES

from tests.helpers import tensor, torch_or_skip


# sigmoid(w*x + b) at w=-1.2, x=0.5, b=0.1, checked by hand: net = -0.5,
# L = sigmoid(-0.5) = 0.37754..., dL/dnet = L(1-L) = 0.23500...
NEURON_LINES = [
    "dL/dn2 = dL/dL * ∂L/∂n2 = 1 * 0.235 = 0.235   [∂L/∂n2 = L * (1 - L)]",
    "dL/dn1 = dL/dn2 * ∂n2/∂n1 = 0.235 * 1 = 0.235   [∂n2/∂n1 = 1]",
    "dL/db = dL/dn2 * ∂n2/∂b = 0.235 * 1 = 0.235   [∂n2/∂b = 1]",
    "dL/dw = dL/dn1 * ∂n1/∂w = 0.235 * 0.5 = 0.1175   [∂n1/∂w = x]",
    "dL/dx = dL/dn1 * ∂n1/∂x = 0.235 * -1.2 = -0.282   [∂n1/∂x = w]",
]


def neuron():
    w, x, b = Value(-1.2, label="w"), Value(0.5, label="x"), Value(0.1, label="b")
    return (w * x + b).sigmoid(), (w, x, b)


def mlp_output():
    return nn.MLP(2, [2, 1], seed=0)([0.5, -1.0])


def page_data(text):
    match = re.search(r'<script type="application/json" id="chainrule-data">(.*?)</script>',
                      text, re.S)
    assert match, "the page has no embedded step data"
    return json.loads(match.group(1))


def write(root, tmp_path, name="page.html", **options):
    path = step_through_html(root, tmp_path / name, **options)
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_returns_path_and_is_self_contained(tmp_path):
    root, _ = neuron()
    target = tmp_path / "steps.html"
    assert step_through_html(root, target) == os.fspath(target)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    lowered = text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", lowered)
    assert "<script src" not in lowered and not re.search(r"<script[^>]*\ssrc\s*=", lowered)
    assert "<link" not in lowered and "@import" not in lowered and "url(" not in lowered
    assert "<iframe" not in lowered and "fetch(" not in lowered and "xmlhttprequest" not in lowered
    for tag in ("<svg", 'id="prev"', 'id="next"', 'id="play"', 'id="reset"',
                'id="step-counter"', 'id="step-line"'):
        assert tag in text
    assert os.listdir(tmp_path) == ["steps.html"]  # no temporary file left beside it


def test_embedded_neuron_steps_equal_trace_and_hand_numbers(tmp_path):
    torch = torch_or_skip()
    root, _ = neuron()
    data = page_data(write(root, tmp_path))
    reference, _ = neuron()
    order = topological_order(reference)
    name = {v: f"v{i}" for i, v in enumerate(order)}
    traced = list(trace_backward(reference))
    assert len(data["steps"]) == len(traced) == 5
    assert [s["line"] for s in data["steps"]] == NEURON_LINES
    for shown, step in zip(data["steps"], traced):
        assert shown["number"] == step.number
        assert shown["node"] == name[step.node] and shown["parent"] == name[step.parent]
        assert shown["index"] == step.index
        assert shown["upstream"] == step.upstream
        assert shown["local"] == step.local
        assert shown["contribution"] == step.contribution
    # The last grad shown for each leaf is the torch float64 gradient.
    tw, tx, tb = tensor(-1.2), tensor(0.5), tensor(0.1)
    torch.sigmoid(tw * tx + tb).backward()
    last = {s["parent_name"]: s["grad"] for s in data["steps"]}
    for label, t in (("w", tw), ("x", tx), ("b", tb)):
        assert math.isclose(last[label], t.grad.item(), rel_tol=1e-12)
    assert data["root"] == name[reference] and data["root_grad_text"] == "1"


def test_embedded_mlp_steps_equal_trace(tmp_path):
    data = page_data(write(mlp_output(), tmp_path))
    reference = mlp_output()
    traced = list(trace_backward(reference))
    assert len(data["steps"]) == len(traced) == 14  # none into the constant inputs
    so_far = {}
    for shown, step in zip(data["steps"], traced):
        so_far[step.parent] = so_far.get(step.parent, 0.0) + step.contribution
        assert (shown["upstream"], shown["local"], shown["contribution"]) == \
            (step.upstream, step.local, step.contribution)
        # On a fresh graph the engine's grad after each step is what the page shows.
        assert shown["grad"] == step.parent.grad == so_far[step.parent]
        assert shown["grad_text"] == format_number(step.parent.grad)
        expected_head = (f"= {format_number(step.upstream)} * {format_number(step.local)} = "
                         f"{format_number(step.contribution)}   [")
        assert expected_head in shown["line"]


def test_the_page_leaves_every_grad_as_it_was(tmp_path):
    root, _ = neuron()
    before = [v.grad for v in topological_order(root)]
    write(root, tmp_path)
    assert [v.grad for v in topological_order(root)] == before == [0.0] * len(before)
    root.backward()
    after_backward = [v.grad for v in topological_order(root)]
    write(root, tmp_path)
    assert [v.grad for v in topological_order(root)] == after_backward


def test_page_shows_this_pass_even_when_leaves_held_grads(tmp_path):
    root, (w, x, b) = neuron()
    root.backward()
    root.backward()
    accumulated = w.grad
    data = page_data(write(root, tmp_path))
    assert w.grad == accumulated  # the caller's accumulated grads are untouched
    reference, (w1, _, _) = neuron()
    reference.backward()
    last = {s["parent_name"]: s["grad"] for s in data["steps"]}
    assert last["w"] == w1.grad == accumulated / 2  # the page shows one pass


def test_same_parent_twice_gets_two_distinct_edges(tmp_path):
    x = Value(3.0, label="x")
    text = write(x * x, tmp_path)
    data = page_data(text)
    assert len(data["steps"]) == 2
    edges = re.findall(r'<g id="(edge\d+)" class="edge" [^>]*data-step="(\d+)"', text)
    assert sorted(step for _, step in edges) == ["1", "2"]
    assert len({edge for edge, _ in edges}) == 2
    assert data["steps"][1]["grad"] == 6.0 and data["steps"][1]["line"].startswith("dL/dx += ")


def test_every_step_has_its_edge_and_every_value_its_grad_field(tmp_path):
    root = mlp_output()
    text = write(root, tmp_path)
    data = page_data(text)
    for step in data["steps"]:
        assert len(re.findall(rf'data-step="{step["number"]}"', text)) == 1
    assert text.count('class="grad"') == len(data["nodes"]) == len(topological_order(root))


def test_leaf_root_has_no_steps(tmp_path):
    data = page_data(write(Value(2.0, label="a"), tmp_path))
    assert data["steps"] == []


HOSTILE = "</script><script>alert(1)</script><img src=x onerror=alert(2)>&amp;\"'@SVG@ \u2028"


def test_hostile_label_and_title_are_escaped(tmp_path):
    evil = Value(2.0, label=HOSTILE)
    root = evil * Value(3.0, label="y")
    text = write(root, tmp_path, title=HOSTILE)
    assert HOSTILE not in text
    assert "<script>alert" not in text and "<img" not in text
    assert text.count("<script") == 2  # the data block and the page's own script
    assert html.escape(HOSTILE, quote=True) in text  # the <title> and <h1>
    data = page_data(text)  # the JSON still decodes to the exact label
    assert HOSTILE in data["names"].values()
    lines = [s["line"] for s in data["steps"] if s["parent_name"] == HOSTILE]
    assert lines == [f"dL/d{HOSTILE} = dL/dL * ∂L/∂{HOSTILE} = 1 * 3 = 3"
                     f"   [∂L/∂{HOSTILE} = y]"]
    assert text.count('class="grad"') == 3  # "@SVG@" in a label did not pull in a second SVG


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_any_label_round_trips_and_never_breaks_out(tmp_path_factory, label):
    folder = tmp_path_factory.mktemp("labels")
    leaf = Value(1.5, label=label)
    root = leaf * Value(2.0, label="k")
    if "\x00" in label:
        with pytest.raises(ValueError, match="NUL"):
            write(root, folder)
        assert leaf.grad == 0.0
        return
    text = write(root, folder)
    data = page_data(text)
    assert label in data["names"].values()
    assert text.count("<script") == 2 and text.count("</script>") == 2
    if "<" in label:
        assert label not in text


@pytest.mark.parametrize("label, message", [("a\x00b", "NUL"), ("a\ud800", "surrogate")])
def test_labels_dot_cannot_draw(tmp_path, label, message):
    x = Value(1.0, label=label)
    with pytest.raises(ValueError, match=message):
        step_through_html(x * 2.0, tmp_path / "x.html")
    assert x.grad == 0.0 and os.listdir(tmp_path) == []


def test_non_value_root(tmp_path):
    with pytest.raises(TypeError, match="needs a Value as root, got float"):
        step_through_html(1.5, tmp_path / "x.html")


def test_missing_folder(tmp_path):
    root, _ = neuron()
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        step_through_html(root, tmp_path / "nowhere" / "x.html")


def test_folder_as_path(tmp_path):
    root, _ = neuron()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        step_through_html(root, tmp_path)


def test_bad_path_type(tmp_path):
    root, _ = neuron()
    with pytest.raises(TypeError, match="path must be a str"):
        step_through_html(root, 42)


def test_graph_too_big_is_refused_before_touching_grads(tmp_path):
    x = Value(1.0, label="x")
    node = x
    for _ in range(MAX_NODES // 2 + 1):
        node = node + 1.0
    assert len(topological_order(node)) > MAX_NODES
    with pytest.raises(ValueError, match="max_nodes"):
        step_through_html(node, tmp_path / "big.html")
    assert x.grad == 0.0 and node.grad == 0.0
    assert os.listdir(tmp_path) == []


def test_bad_rankdir_and_title_before_touching_grads(tmp_path):
    root, (w, x, b) = neuron()
    with pytest.raises(ValueError, match="rankdir"):
        step_through_html(root, tmp_path / "x.html", rankdir="XY")
    with pytest.raises(TypeError, match="title must be a str"):
        step_through_html(root, tmp_path / "x.html", title=3)
    assert w.grad == 0.0 and os.listdir(tmp_path) == []
    assert page_data(write(root, tmp_path, rankdir="TB"))["steps"]


def test_overwrites_an_existing_file_whole(tmp_path):
    target = tmp_path / "steps.html"
    target.write_text("old")
    root, _ = neuron()
    step_through_html(root, str(target))
    assert page_data(target.read_text(encoding="utf-8"))["steps"]
    assert os.listdir(tmp_path) == ["steps.html"]


# ------------------------------------------------------- quiz, passes, package data

def test_a_quiz_page_needs_its_marking_from_the_student_package(tmp_path):
    # visualize draws the quiz but does not mark it: without marking= it says where the
    # quiz page is made, before writing anything
    root, (w, _, _) = neuron()
    with pytest.raises(ValueError, match="student.quiz"):
        step_through_html(root, tmp_path / "quiz.html", quiz=True)
    assert os.listdir(tmp_path) == [] and w.grad == 0.0
    text = write(root, tmp_path)
    assert "ChainruleMarking = " not in text
    assert not [s for s in page_data(text)["steps"] if "answer_local" in s]


def test_two_passes_embed_both_calls(tmp_path):
    root, (w, x, b) = neuron()
    data = page_data(write(root, tmp_path, passes=2))
    assert data["passes"] == 2 and len(data["steps"]) == 10
    assert [s["pass"] for s in data["steps"]] == [1] * 5 + [2] * 5
    reference, (w2, _, _) = neuron()
    reference.backward()
    reference.backward()
    last = {s["parent_name"]: s["grad"] for s in data["steps"]}
    assert last["w"] == w2.grad  # accumulated over the two calls
    assert w.grad == 0.0  # and the caller's graph is untouched
    with pytest.raises(ValueError, match="passes must be 1 to 5"):
        step_through_html(root, tmp_path / "x.html", passes=0)


def test_page_files_are_package_data_not_python_strings():
    import pathlib
    import visualize
    folder = pathlib.Path(visualize.__file__).parent
    for name in ("step_through.html", "step_through.css", "step_through.js"):
        assert (folder / "static" / name).is_file()
    source = (folder / "step_through.py").read_text()
    assert "<button" not in source and "function (" not in source and "{ font" not in source
    setup = (folder.parent / "setup.cfg").read_text()
    assert "visualize = static/*.html, static/*.css, static/*.js" in setup


def test_hover_titles_use_the_names_of_the_text(tmp_path):
    text = write(neuron()[0], tmp_path)
    titles = re.findall(r"<title>([^<]*)</title>", text)
    assert "n1" in titles and "w" in titles and "∂n1/∂w" in titles
    assert not [t for t in titles if re.fullmatch(r"v\d+(_op)?(->v\d+(_op)?)?", t)]
