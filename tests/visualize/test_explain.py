"""The narrator and the naming scheme, against the engine and torch (numbers:
tests/engine/pure/test_numbers.py; marking: tests/student/test_marking.py)."""

import math

import pytest

from autograd_core import Value, topological_order, trace_backward
from autograd_core.naming import definition, legend, node_names
from autograd_core.numbers import format_number
from visualize.explain import kept_grads, narrate

from tests.helpers import tensor, torch_or_skip


def neuron():
    w, x, b = Value(-1.2, label="w"), Value(0.5, label="x"), Value(0.1, label="b")
    return (w * x + b).sigmoid(), (w, x, b)


# --------------------------------------------------------------------- numbers

def test_sigmoid_at_12_is_never_shown_as_zero():
    z = Value(12.0, label="z")
    s = z.sigmoid()
    s.backward()
    exact = math.exp(-12) / (1 + math.exp(-12)) ** 2  # sigma'(12), about 6.1e-6
    assert z.grad == pytest.approx(exact, rel=1e-12)
    assert format_number(z.grad) == "6.144e-6"
    line = narrate(s).lines()[0]
    assert "6.144e-6" in line and "0.0000" not in line


# ---------------------------------------------------------------------- names

def test_names_labels_n1_n2_constants_and_repeats():
    w, x = Value(2.0, label="w"), Value(3.0, label="x")
    other_w = Value(5.0, label="w")
    n = Value(1.0, label="n1")  # a label that looks like a generated name
    out = (w * x + other_w) * n + 0.5
    order = topological_order(out)
    names = node_names(order, out)
    assert {names[w], names[other_w]} == {"w", "w#2"} and names[n] == "n1"
    assert names[out] == "L"
    results = [v for v in order if v.parents and v is not out]
    assert [names[v] for v in results] == ["n2", "n3", "n4"]  # n1 is taken by a label
    assert len(set(names.values())) == len(order) - 0  # all distinct (one constant 0.5)
    assert "(0.5)" in names.values()
    assert legend(order, names)[0] == ("n2", f"{names[w]} * x")
    assert definition(out, names) == "n4 + (0.5)"


def test_legend_is_on_the_picture_the_page_and_the_terminal(tmp_path):
    from tests.helpers import run_cli
    from visualize import draw_graph
    root, _ = neuron()
    source = draw_graph(root).source
    assert "where n1 = w * x" in source and "n2 = n1 + b" in source
    assert "L = sigmoid(n2)" in source
    status, out, _ = run_cli(["grad", "exp(w*x + b + w*w*x*x + b*b) * 2", "w=1", "x=0.5",
                              "b=0.1"])
    assert status == 0 and "\nwhere n1 = " in out and "dL/dn1" in out


# --------------------------------------------------------------------- narrate

def test_narrated_steps_equal_trace_backward_and_torch():
    torch = torch_or_skip()
    root, (w, x, b) = neuron()
    derivation = narrate(root)
    reference, _ = neuron()
    traced = list(trace_backward(reference))
    assert len(derivation.steps) == len(traced) == 5
    for shown, step in zip(derivation.steps, traced):
        assert (shown.upstream, shown.local, shown.contribution) == \
               (step.upstream, step.local, step.contribution)
        assert shown.after == step.parent.grad and shown.before + shown.contribution == shown.after
    tw, tx, tb = tensor(-1.2), tensor(0.5), tensor(0.1)
    torch.sigmoid(tw * tx + tb).backward()
    for v, t in ((w, tw), (x, tx), (b, tb)):
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-12)
    assert derivation.legend_lines() == ["n1 = w * x", "n2 = n1 + b", "L = sigmoid(n2)"]


def test_two_passes_accumulate_inputs_and_recompute_results():
    w, x = Value(2.0, label="w"), Value(3.0, label="x")
    u = w * x
    out = (u * w).tanh()
    derivation = narrate(out, passes=2)
    w2, x2 = Value(2.0, label="w"), Value(3.0, label="x")
    out2 = (w2 * x2 * w2).tanh()
    out2.backward()
    once = {"w": w2.grad, "x": x2.grad}
    out2.backward()
    assert w.grad == w2.grad == pytest.approx(2 * once["w"])
    first = [s for s in derivation.steps if s.pass_number == 1]
    second = [s for s in derivation.steps if s.pass_number == 2]
    assert len(first) == len(second)
    for a, b in zip(first, second):
        assert a.contribution == b.contribution  # the same pass again
        if b.parent.parents:
            assert a.before == b.before  # results restart from zero
    x_steps = [s for s in second if s.parent is x]
    assert x_steps[0].before == pytest.approx(once["x"]) and x_steps[0].accumulates
    assert "+=" in x_steps[0].line()


def test_kept_grads_leaves_the_graph_alone():
    root, (w, _, _) = neuron()
    root.backward()
    before = w.grad
    with kept_grads(root):
        narrate(root, passes=3)
    assert w.grad == before


def test_identifiers_for_generated_code():
    from autograd_core.naming import identifiers
    w = Value(1.0, label="L1.n1.w1")
    x = Value(2.0, label="x")
    same = Value(3.0, label="x")
    out = (w * x + same).tanh()
    order = topological_order(out)
    names = node_names(order, out)
    ids = identifiers(names, reserved=("x_2",))
    assert ids[w] == "L1_n1_w1" and {ids[x], ids[same]} == {"x", "x_2_2"} and ids[out] == "L"
    assert all(i.isidentifier() for i in ids.values()) and len(set(ids.values())) == len(ids)
    assert "x_2" not in ids.values()
    assert not [v for v in ids if not v.parents and not v.label]  # constants left out
