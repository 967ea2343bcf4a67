"""`chainrule demo`: printed numbers against Mazur's published ones, torch and closed forms."""

import math
import re

import pytest

import nn
from autograd_core import Value
from chainrule import demos
from tests.helpers import run_cli, torch_or_skip

# Mazur's published numbers, typed in here from the article (not imported from the
# module under test), with the decimals he gave.
PUBLISHED = {
    "net_h1": "0.3775", "out_h1": "0.593269992", "out_h2": "0.596884378",
    "net_o1": "1.105905967", "out_o1": "0.75136507", "out_o2": "0.772928465",
    "E_o1": "0.274811083", "E_o2": "0.023560026", "E_total": "0.298371109",
    "dE/dw5": "0.082167041", "dE/dw1": "0.000438568",
    "w1": "0.149780716", "w2": "0.19956143", "w3": "0.24975114", "w4": "0.29950229",
    "w5": "0.35891648", "w6": "0.408666186", "w7": "0.511301270", "w8": "0.561370121",
}


run_main = run_cli


def table_value(output, name, column=0):
    """The number in a table row '  name  value ...' (column: which number)."""
    match = re.search(rf"^  {re.escape(name)}\s+(-?\d.*)$", output, re.M)
    assert match, f"no row {name!r}"
    return float(match.group(1).split()[column])


def mazur_torch():
    """The same network in torch float64: an independent oracle for every gradient."""
    torch = torch_or_skip()
    w = torch.tensor([0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55], dtype=torch.float64,
                     requires_grad=True)
    i1, i2, t1, t2 = 0.05, 0.10, 0.01, 0.99
    h1 = torch.sigmoid(w[0] * i1 + w[1] * i2 + 0.35)
    h2 = torch.sigmoid(w[2] * i1 + w[3] * i2 + 0.35)
    o1 = torch.sigmoid(w[4] * h1 + w[5] * h2 + 0.60)
    o2 = torch.sigmoid(w[6] * h1 + w[7] * h2 + 0.60)
    E = 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
    E.backward()
    return E.item(), w.grad.tolist()


@pytest.fixture(scope="module")
def mazur_output():
    status, out, err = run_main(["demo", "mazur", "--digits", "12"])
    assert status == 0, err
    return out


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_mazur_matches_the_published_numbers(mazur_output, name):
    published = PUBLISHED[name]
    decimals = len(published.split(".")[1])
    # 1e-9 where he gave 9 decimals (1e-8 where 8): his numbers are rounded.
    assert table_value(mazur_output, name, column=1 if name.startswith("w") else 0) == \
        pytest.approx(float(published), abs=10.0 ** -decimals)


def test_mazur_gradients_match_torch(mazur_output):
    E, grads = mazur_torch()
    assert table_value(mazur_output, "E_total") == pytest.approx(E, abs=1e-12)
    for k, g in enumerate(grads, 1):
        assert table_value(mazur_output, f"dE/dw{k}") == pytest.approx(g, abs=1e-12)
        start = [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55][k - 1]
        assert table_value(mazur_output, f"w{k}", column=1) == \
            pytest.approx(start - 0.5 * g, abs=1e-12)


def test_mazur_is_shown_neuron_by_neuron_with_numbers(mazur_output):
    """The article's delta rules, one line per delta and per dE/dw, each equal to torch."""
    _, grads = mazur_torch()
    o1 = 1 / (1 + math.exp(-1.105905967))
    delta_o1 = re.search(r"delta_o1 = \(a - y\) \* σ'\(net_o1\).*\n\s+= \((\S+) - (\S+)\) \* "
                         r"(\S+) = (\S+)", mazur_output)
    a, y, slope, delta = map(float, delta_o1.groups())
    assert (a, y) == (pytest.approx(0.75136507, abs=1e-8), 0.01)
    assert (a - y) * slope == pytest.approx(delta, abs=1e-11)
    assert delta == pytest.approx((o1 - 0.01) * o1 * (1 - o1), abs=1e-8)
    hidden = re.search(r"delta_h1 = σ'\(net_h1\) \* \(w5 \* delta_o1 \+ w7 \* delta_o2\).*\n"
                       r"\s+= (\S+) \* \((\S+) \* (\S+) \+ (\S+) \* (\S+)\) = \S+ \* \S+ = (\S+)",
                       mazur_output)
    s, w5, d_o1, w7, d_o2, d_h1 = map(float, hidden.groups())
    assert (w5, w7, d_o1) == (0.4, 0.5, delta)
    assert s * (w5 * d_o1 + w7 * d_o2) == pytest.approx(d_h1, abs=1e-11)
    for k, (source, delta_name) in enumerate([("i1", "h1"), ("i2", "h1"), ("i1", "h2"),
                                             ("i2", "h2"), ("out_h1", "o1"), ("out_h2", "o1"),
                                             ("out_h1", "o2"), ("out_h2", "o2")], 1):
        line = re.search(rf"dE/dw{k} = {source} \* delta_{delta_name} = (\S+) \* (\S+) = (\S+)",
                         mazur_output)
        o_i, d_j, g = map(float, line.groups())
        assert o_i * d_j == pytest.approx(g, abs=1e-11)
        assert g == pytest.approx(grads[k - 1], abs=1e-11), f"w{k}"
    assert mazur_output.index("delta_o1 =") < mazur_output.index("delta_h1 =")


def test_mazur_default_digits_are_the_published_ones():
    status, out, _ = run_main(["demo", "mazur"])
    assert status == 0
    assert re.search(r"^  E_total\s+0\.298371109\s+0\.298371109", out, re.M)


def neuron_closed_form(W, X, t):
    z = 1 / (1 + math.exp(-W * X))
    return {"Z": z, "dJ/dZ": -t / z + (1 - t) / (1 - z), "dZ/dY": z * (1 - z), "dY/dW": X,
            "dJ/dY": z - t, "dJ/dW": (z - t) * X, "delta": (z - t) * z * (1 - z)}


@pytest.mark.parametrize("W, X, t", [(0.6, 1.5, 1.0), (-2.0, 3.0, 1.0), (0.3, -0.7, 0.25)])
def test_neuron_demo_numbers(W, X, t):
    torch = torch_or_skip()
    status, out, err = run_main(["demo", "neuron", "--W", str(W), "--X", str(X), "--t", str(t),
                                 "--digits", "10"])
    assert status == 0, err
    want = neuron_closed_form(W, X, t)

    # numbers are shown to 10 significant figures (autograd_core.numbers.format_number)
    def number_after(prefix):
        return float(re.search(re.escape(prefix) + r"\s*=\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)", out).group(1))

    assert number_after("dJ/dZ = -t/Z + (1 - t)/(1 - Z)") == pytest.approx(want["dJ/dZ"],
                                                                           rel=1e-9, abs=1e-15)
    assert number_after("dZ/dY = Z (1 - Z)") == pytest.approx(want["dZ/dY"], rel=1e-9, abs=1e-15)
    assert number_after("dY/dW = X") == pytest.approx(X, rel=1e-9, abs=1e-15)
    assert number_after("engine: dJ/dY") == pytest.approx(want["dJ/dY"], rel=1e-9, abs=1e-15)
    delta = re.search(r"delta\s+= \S+ \* \S+ = (\S+)", out)
    assert float(delta.group(1)) == pytest.approx(want["delta"], rel=1e-9, abs=1e-15)
    # torch agrees on the derivative itself
    w = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    z = torch.sigmoid(w * X)
    J = -(t * torch.log(z) + (1 - t) * torch.log(1 - z))
    J.backward()
    product = re.search(r"dJ/dW = \S+ \* \S+ \* \S+ = (\S+)", out)
    assert float(product.group(1)) == pytest.approx(w.grad.item(), rel=1e-9, abs=1e-15)
    assert "Z - t" in out and "(a - y) * sigma'(net)" in out


def test_neuron_numbers_dict_matches_closed_form():
    _, numbers = demos.neuron_demo(0.6, 1.5, 1.0)
    want = neuron_closed_form(0.6, 1.5, 1.0)
    for key in ("dJ/dZ", "dZ/dY", "dY/dW", "dJ/dY", "dJ/dW", "delta"):
        assert numbers[key] == pytest.approx(want[key], rel=1e-12)


def test_a_wrong_engine_is_caught(monkeypatch):
    """The demos check the engine: a wrong local derivative stops them."""
    real = Value.sigmoid

    def wrong_sigmoid(self):
        out = real(self)
        out.local_grads = (out.local_grads[0] * 1.01,)
        return out

    monkeypatch.setattr(Value, "sigmoid", wrong_sigmoid)
    with pytest.raises(demos.DemoCheckError, match="sigma|dZ/dY"):
        demos.neuron_demo()
    monkeypatch.setitem(nn.layers.ACTIVATIONS, "sigmoid", wrong_sigmoid)  # what MLPs call
    with pytest.raises(demos.DemoCheckError, match="the delta rule gives"):
        demos.mazur_network()


@pytest.mark.parametrize("argv, words", [
    (["demo", "neuron", "--t", "2"], "must lie in [0, 1] (it is a probability), got 2\n"),
    (["demo", "neuron", "--W", "30", "--X", "30"], "sigmoid(900) rounds to 1, so"),
])
def test_neuron_demo_errors(argv, words):
    status, out, err = run_main(argv)
    assert status == 2 and err.startswith("chainrule: error: ") and words in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["demo", "neuron", "--W", "abc"],
                                  ["demo", "neuron", "--X", "nan"],
                                  ["demo", "mazur", "--digits", "-1"],
                                  ["demo"], ["demo", "nosuch"]])
def test_demo_argument_errors(argv):
    status, _, err = run_main(argv)
    assert status == 2 and "error:" in err and "Traceback" not in err


# ------------------------------------------------------------------- demo softmax

def softmax_rows(output):
    """{i: (z_i, p_i, onehot_i, engine dJ/dz_i, p_i - onehot_i)} from the demo's table."""
    rows = re.findall(r"^  z(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$", output, re.M)
    return {int(i): tuple(map(float, rest)) for i, *rest in rows}


@pytest.mark.parametrize("logits, target", [
    ([2.0, 1.0, 0.1], 0), ([0.5, -1.0, 3.0, 0.0], 2), ([1000.0, -1000.0, 0.0], 1),
    ([-3.0, -3.0], 1)])
def test_softmax_demo_gradient_is_p_minus_onehot_as_torch(logits, target):
    torch = torch_or_skip()
    argv = ["demo", "softmax", "--logits", *map(str, logits), "--target", str(target),
            "--digits", "12"]
    status, out, err = run_main(argv)
    assert status == 0, err
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    J = torch.nn.functional.cross_entropy(z.unsqueeze(0), torch.tensor([target]))
    J.backward()
    p = torch.softmax(z.detach(), dim=0).tolist()
    rows = softmax_rows(out)
    assert sorted(rows) == list(range(1, len(logits) + 1))
    for i, (z_i, p_i, onehot, engine, closed) in rows.items():
        assert z_i == logits[i - 1] and onehot == (1.0 if i - 1 == target else 0.0)
        assert p_i == pytest.approx(p[i - 1], abs=1e-12)
        assert engine == pytest.approx(z.grad[i - 1].item(), abs=1e-12)
        assert closed == pytest.approx(p[i - 1] - onehot, abs=1e-12)
    shown_J = float(re.search(r"J = -log p\d+ = (\S+)", out).group(1))
    assert math.isfinite(shown_J) and shown_J == pytest.approx(J.item(), rel=1e-12)


def test_softmax_demo_follows_the_chain_through_the_softmax_nodes():
    _, numbers = demos.softmax_demo([2.0, 1.0, 0.1], 0)
    p1 = math.exp(2.0) / (math.exp(2.0) + math.exp(1.0) + math.exp(0.1))
    assert numbers["dJ/dp_t"] == pytest.approx(-1 / p1, rel=1e-12)
    text, numbers = demos.softmax_demo([1000.0, -1000.0, 0.0], 1)
    assert "dJ/dp_t" not in numbers and "underflows" in text
    assert numbers["J"] == 2000.0


@pytest.mark.parametrize("argv, words", [
    (["demo", "softmax", "--logits", "1"], "at least two logits"),
    (["demo", "softmax", "--target", "3"], "class index from 0 to 2, got 3"),
    (["demo", "softmax", "--logits", "1", "nan"], "not a finite number"),
    (["demo", "softmax", "--target", "x"], "not a whole number"),
])
def test_softmax_demo_errors(argv, words):
    status, _, err = run_main(argv)
    assert status == 2 and words in err and "Traceback" not in err


def test_demo_numbers_use_the_one_number_format():
    # p2 = 2.06e-9 was printed as 0.0000: fixed decimals hid it
    from autograd_core.numbers import format_number
    text, numbers = demos.softmax_demo(logits=(10.0, -10.0), target=0)
    p2 = numbers["p"][1]
    assert 0 < p2 < 1e-8 and "0.0000" not in text
    assert f"p2 = {format_number(p2)}" in text
    text, numbers = demos.neuron_demo(W=4.0, X=3.0, t=1.0)
    assert f"dJ/dY = {format_number(numbers['dJ/dY'])}" in text and "0.0000" not in text
