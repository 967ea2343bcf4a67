"""nn.backprop: the neuron-level backward pass (deltas, dC/dw = o_i * delta_j) equals the
scalar engine's node gradients and torch float64, for every loss it knows."""

import math
import re

import pytest
from hypothesis import given, settings, strategies as st

import nn
from autograd_core import Value
from tests.helpers import close, torch_or_skip
from nn.backprop import EngineMismatch, neuron_backward
from nn.loss_table import loss_named


def torch_activation(name):
    """torch's function for the activation called `name`."""
    torch = torch_or_skip()
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "linear": lambda x: x}[name]


def torch_network(model, x, activations):
    """Net inputs (with .grad kept), outputs and (W, b) per layer, in torch float64, from
    the model's weights and the activations the test names."""
    torch = torch_or_skip()
    h = torch.tensor(x, dtype=torch.float64)
    nets, params = [], []
    for layer, activation in zip(model.layers, activations):
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        net = W @ h + b
        net.retain_grad()
        nets.append(net)
        params.append((W, b))
        h = torch_activation(activation)(net)
    return nets, h, params


def torch_cost(loss, out, target):
    torch = torch_or_skip()
    F = torch.nn.functional
    if not isinstance(target, (int, list)) or loss not in ("ce", "cross_entropy"):
        target = target if isinstance(target, list) else [target]
    if loss == "sse":
        return 0.5 * ((torch.tensor(target, dtype=torch.float64) - out) ** 2).sum()
    if loss == "sigmoid_bce":
        return F.binary_cross_entropy(out, torch.tensor(target, dtype=torch.float64),
                                      reduction="sum")
    if loss in ("bce", "bce_with_logits"):  # one loss, two spellings
        return F.binary_cross_entropy_with_logits(out, torch.tensor(target, dtype=torch.float64),
                                                  reduction="sum")
    return F.cross_entropy(out.unsqueeze(0), torch.tensor([target]))


CASES = [
    # (sizes, hidden activation, output activation, loss, target)
    ([2, 2], "sigmoid", "sigmoid", "sse", [0.01, 0.99]),
    ([4, 3, 2], "tanh", "linear", "sse", [0.5, -1.0]),
    ([5, 1], "relu", "sigmoid", "sse", 0.3),
    ([3, 1], "sigmoid", "sigmoid", "sigmoid_bce", 1.0),
    ([4, 3], "sigmoid", "sigmoid", "sigmoid_bce", [0.0, 1.0, 0.0]),
    ([4, 1], "tanh", "linear", "bce_with_logits", 0.0),
    ([4, 2], "tanh", "linear", "bce", [1.0, 0.0]),
    ([4, 3], "relu", "linear", "ce", 1),
    ([6, 4, 3], "sigmoid", "linear", "cross_entropy", 2),
    ([5, 10], "sigmoid", "linear", "cross_entropy", 0),
]


def check_against_torch(model, x, sizes, act, out_act, loss, target):
    result = neuron_backward(model, x, target, loss=loss)
    activations = [act] * (len(sizes) - 1) + [out_act]
    nets, out, params = torch_network(model, x, activations)
    cost = torch_cost(loss, out, target)
    cost.backward()
    assert close(result.cost, cost.item())
    for l, (net, (W, b)) in enumerate(zip(nets, params), 1):
        for j, (delta, t_delta) in enumerate(zip(result.deltas[l], net.grad.tolist())):
            assert close(delta, t_delta, abs_=1e-12), (l, j)
        for row, t_row in zip(result.weight_grads[l], W.grad.tolist()):
            for g, t_g in zip(row, t_row):
                assert close(g, t_g, abs_=1e-12)
        for g, t_g in zip(result.bias_grads[l], b.grad.tolist()):
            assert close(g, t_g, abs_=1e-12)
    return result


@pytest.mark.parametrize("sizes, act, out_act, loss, target", CASES)
def test_every_delta_and_gradient_equals_torch_and_the_engine(sizes, act, out_act, loss, target):
    model = nn.MLP(3, sizes, activation=act, output_activation=out_act, seed=11)
    x = [0.5, -1.25, 2.0]
    result = check_against_torch(model, x, sizes, act, out_act, loss, target)
    # Each step's rule value equals the engine's node gradient, which itself is torch's.
    n_weights = sum(len(n.w) for layer in model.layers for n in layer.neurons)
    kinds = [s.kind for s in result.steps]
    assert kinds.count("delta") == sum(sizes) and kinds.count("weight") == n_weights
    assert kinds.count("bias") == sum(sizes)
    for step in result.steps:
        assert close(step.value, step.engine, abs_=1e-12), step.what
    # The engine's numbers are read off a fresh backward of the same example.
    out = model(x)
    outs = out if isinstance(out, list) else [out]
    for p in model.parameters():
        p.grad = 0.0
    listed = target if loss in ("ce", "cross_entropy") or isinstance(target, list) \
        else [target]
    cost = loss_named(loss).cost(outs, listed)
    cost.backward()
    weights = [s for s in result.steps if s.kind == "weight"]
    by_label = {p.label: p.grad for p in model.parameters()}
    for step in weights:
        assert step.engine == by_label[step.what[len("dC/d"):]]


@settings(max_examples=40, deadline=None)
@given(x=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
       case=st.sampled_from(CASES), seed=st.integers(0, 10_000))
def test_random_inputs_and_weights_agree_with_torch(x, case, seed):
    sizes, act, out_act, loss, target = case
    model = nn.MLP(3, sizes, activation=act, output_activation=out_act, seed=seed)
    check_against_torch(model, x, sizes, act, out_act, loss, target)


def test_output_rules_are_the_textbooks():
    """sse: (a - y) sigma'(net); bce on sigmoid: a - y; logits: sigmoid(z) - y; softmax +
    cross-entropy: p - onehot; from the forward values, computed here by hand."""
    model = nn.MLP(2, [3, 2], seed=4)
    x = [0.7, -0.4]
    for loss, target in (("sse", [0.2, 0.9]), ("sigmoid_bce", [1.0, 0.0])):
        r = neuron_backward(model, x, target, loss=loss)
        for j, a in enumerate(r.outs[2]):
            want = (a - target[j]) * (a * (1 - a) if loss == "sse" else 1.0)
            assert close(r.deltas[2][j], want, abs_=1e-15)
    logits = nn.MLP(2, [3, 3], output_activation="linear", seed=4)
    r = neuron_backward(logits, x, 1, loss="cross_entropy")
    e = [math.exp(z) for z in r.outs[2]]
    for j, z in enumerate(r.outs[2]):
        assert close(r.deltas[2][j], e[j] / sum(e) - (j == 1), abs_=1e-15)
    single = nn.MLP(2, [3, 1], output_activation="linear", seed=4)
    r = neuron_backward(single, x, 1.0, loss="bce_with_logits")
    z = r.outs[2][0]
    assert close(r.deltas[2][0], 1 / (1 + math.exp(-z)) - 1.0, abs_=1e-15)


def test_hidden_rule_and_weight_rule_by_hand():
    """delta_j = f'(net_j) sum_l w_jl delta_l and dC/dw_ij = o_i delta_j, recomputed here."""
    model = nn.MLP(2, [3, 2], activation="tanh", output_activation="sigmoid", seed=2)
    r = neuron_backward(model, [0.3, 0.8], [0.0, 1.0])
    for j in range(3):
        total = sum(model.layers[1].neurons[k].w[j].data * r.deltas[2][k] for k in range(2))
        assert close(r.deltas[1][j], (1 - r.outs[1][j] ** 2) * total, abs_=1e-15)
        for i in range(2):
            assert close(r.weight_grads[1][j][i], r.outs[0][i] * r.deltas[1][j], abs_=1e-15)
    assert r.outs[0] == [0.3, 0.8] and r.names[0] == ["x1", "x2"]
    assert r.names[1] == ["L1.h1", "L1.h2", "L1.h3"] and r.names[2] == ["out1", "out2"]


def test_each_line_is_the_seed_equation_and_its_numbers_add_up():
    model = nn.MLP(2, [2, 2], seed=3)
    r = neuron_backward(model, [0.05, 0.1], [0.01, 0.99], digits=12)
    lines = r.lines(digits=12)
    assert lines[0].startswith("delta_out1 = (a - y) * σ'(net_out1)   [")
    assert "\n    = (0.405569255139 - 0.010000000000) * " in lines[0]
    assert "[σ'(net_out1) = out_out1 * (1 - out_out1)]" in lines[0]
    hidden = next(line for line in lines if line.startswith("delta_L1.h1"))
    assert "σ'(net_L1.h1) * (out1.w1 * delta_out1 + out2.w1 * delta_out2)" in hidden
    assert "dC/dL1.h1.w2 = x2 * delta_L1.h1 = " in "\n".join(lines)
    assert "dC/dout1.w1 = out_L1.h1 * delta_out1 = " in "\n".join(lines)
    for step in r.steps:
        # Every '= expression' in the numbers evaluates to the next, ending at the value.
        assert step.numbers == step.numbers_at(12)
        parts = [p for p in step.numbers.split(" = ") if p]
        for part in parts:
            assert eval(part, {"__builtins__": {}}) == pytest.approx(step.value, rel=1e-9,
                                                                     abs=1e-11)


def test_the_models_grads_are_left_as_they_were():
    model = nn.MLP(2, [2, 1], seed=0)
    for i, p in enumerate(model.parameters()):
        p.grad = float(i)
    neuron_backward(model, [1.0, 2.0], 0.5)
    assert [p.grad for p in model.parameters()] == [float(i) for i in
                                                    range(len(model.parameters()))]


def test_a_wrong_engine_is_caught(monkeypatch):
    real = Value.sigmoid

    def wrong_sigmoid(self):
        out = real(self)
        out.local_grads = (out.local_grads[0] * 1.01,)
        return out

    monkeypatch.setitem(nn.layers.ACTIVATIONS, "sigmoid", wrong_sigmoid)
    with pytest.raises(EngineMismatch, match="delta_out1: the delta rule gives"):
        neuron_backward(nn.MLP(2, [2, 1], seed=0), [1.0, 2.0], 0.5)


def test_user_names_appear_in_the_steps():
    model = nn.MLP(2, [2, 1], seed=0)
    model.input_names = ["hours", "sleep"]
    model.layers[0].neurons[0].name = "tired"
    text = "\n".join(neuron_backward(model, [1.0, 2.0], 0.5).lines())
    assert "delta_tired = σ'(net_tired) * (out1.w1 * delta_out1)" in text
    assert "dC/dtired.w1 = hours * delta_tired" in text


@pytest.mark.parametrize("call,error,match", [
    (lambda: neuron_backward(nn.MLP(2, [1], seed=0), [1, 2], 0.5, loss="hinge"), ValueError,
     "unknown loss 'hinge'; use one of: bce, bce_with_logits, ce, cross_entropy, sse, "
     "sigmoid_bce"),
    (lambda: neuron_backward(nn.MLP(2, [3], seed=0), [1, 2], 1, loss="cross_entropy"),
     ValueError, "needs linear output neurons, but this network's are sigmoid"),
    (lambda: neuron_backward(nn.MLP(2, [1], output_activation="tanh"), [1, 2], 1.0,
                             loss="sigmoid_bce"), ValueError, "needs sigmoid output neurons"),
    (lambda: neuron_backward(nn.MLP(2, [2], seed=0), [1, 2], [0.5]), ValueError,
     "2 outputs but 1 targets"),
    (lambda: neuron_backward(nn.MLP(2, [2], output_activation="linear"), [1, 2], 2,
                             loss="cross_entropy"), ValueError, "out of range"),
    (lambda: neuron_backward(nn.MLP(2, [2], output_activation="linear"), [1, 2], 1.0,
                             loss="cross_entropy"), TypeError, "class index"),
    (lambda: neuron_backward(nn.MLP(2, [1], seed=0), [1, 2], math.nan), TypeError, "finite"),
    (lambda: neuron_backward(nn.Neuron(2), [1, 2], 0.5), TypeError, "needs an nn.MLP"),
    (lambda: neuron_backward(nn.MLP(2, [1], seed=0), [1], 0.5), ValueError, "expects 2 inputs"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=re.escape(match) if "'" in match else match):
        call()


def test_a_step_can_be_shown_at_other_digits():
    r = neuron_backward(nn.MLP(2, [2, 1], seed=0), [0.05, 0.1], 0.5)   # numbers at 4 digits
    step = next(s for s in r.steps if s.what == "dC/dL1.h1.w1")
    assert step.numbers == step.numbers_at(4) == f"{0.05:.4f} * {r.deltas[1][0]:.4f}"
    assert step.line(9) == (f"dC/dL1.h1.w1 = x1 * delta_L1.h1 = 0.050000000 * "
                            f"{r.deltas[1][0]:.9f} = {step.value:.9f}")
