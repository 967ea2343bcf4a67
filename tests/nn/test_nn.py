"""Neuron, Layer, MLP, losses and SGD against torch float64 and the contract."""

import math

import pytest

import nn
from autograd_core import Value
from tests.helpers import net_op, torch_or_skip
from tests.helpers import close


def torch_activation(name):
    """torch's function for the activation called `name`."""
    torch = torch_or_skip()
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "linear": lambda x: x}[name]


def torch_forward(model, x, activations):
    """The same network in torch float64: the model's weights, the activations the test
    asked for (not read back from the model, so wrong wiring shows up)."""
    torch = torch_or_skip()
    params = []
    h = torch.tensor(x, dtype=torch.float64)
    assert len(activations) == len(model.layers)
    for layer, activation in zip(model.layers, activations):
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        params += [W, b]
        h = torch_activation(activation)(W @ h + b)
    return h, params


def torch_grads_in_our_order(params):
    grads = []
    for W, b in zip(params[::2], params[1::2]):
        for row, bias in zip(W.grad.tolist(), b.grad.tolist()):
            grads += row + [bias]
    return grads


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
@pytest.mark.parametrize("sizes", [[1], [3, 1], [1, 1], [4, 1, 2], [5, 5, 3]])
def test_mlp_forward_and_gradients_match_torch(activation, sizes):
    model = nn.MLP(3, sizes, activation=activation, seed=7)
    x = [0.5, -1.25, 2.0]
    out = model(x)
    outs = out if isinstance(out, list) else [out]
    loss = nn.mse_loss(outs, [0.3] * len(outs))
    loss.backward()
    h, params = torch_forward(model, x, [activation] * len(sizes))
    t_loss = ((h - 0.3) ** 2).mean()
    t_loss.backward()
    assert close(loss.data, t_loss.item())
    expected = torch_grads_in_our_order(params)
    assert len(model.parameters()) == len(expected) == sum(
        n_out * (n_in + 1) for n_in, n_out in zip([3] + sizes, sizes))
    for p, g in zip(model.parameters(), expected):
        assert close(p.grad, g, abs_=1e-13), p.label


def test_output_activation_differs_from_hidden():
    model = nn.MLP(2, [3, 1], activation="tanh", output_activation="linear", seed=1)
    assert [n.activation for n in model.layers[0].neurons] == ["tanh"] * 3
    assert model.layers[1].neurons[0].activation == "linear"
    out = model([1.0, 2.0])
    assert out.op == net_op()  # linear output: the net input itself


def test_call_returns_value_for_one_output_list_otherwise():
    assert isinstance(nn.MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    out = nn.MLP(2, [3, 2], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2
    layer_out = nn.Layer(2, 1, seed=0)([1.0, 2.0])
    assert isinstance(layer_out, list) and len(layer_out) == 1  # no [0] surprise in Layer
    assert isinstance(nn.Neuron(2, seed=0)([Value(1.0), 2.0]), Value)


def test_same_seed_same_weights_different_seed_different():
    a = [p.data for p in nn.MLP(2, [4, 1], seed=3).parameters()]
    b = [p.data for p in nn.MLP(2, [4, 1], seed=3).parameters()]
    c = [p.data for p in nn.MLP(2, [4, 1], seed=4).parameters()]
    assert a == b and a != c


def test_parameter_order_layer_neuron_weights_then_bias():
    model = nn.MLP(2, [2, 1], seed=0)
    labels = [p.label for p in model.parameters()]
    assert labels == ["L1.h1.w1", "L1.h1.w2", "L1.h1.b", "L1.h2.w1", "L1.h2.w2", "L1.h2.b",
                      "out1.w1", "out1.w2", "out1.b"]
    neuron = nn.Neuron(3, seed=0)
    assert neuron.parameters() == neuron.w + [neuron.b]


def test_zero_grad_on_module_and_sgd():
    model = nn.MLP(2, [2, 1], seed=0)
    model([1.0, 1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())
    model([1.0, 1.0]).backward()
    opt = nn.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_sgd_step_is_w_minus_lr_grad():
    w = Value(0.5)
    (w * 3.0).backward()
    nn.SGD([w], lr=0.1).step()
    assert w.data == 0.5 - 0.1 * 3.0


@pytest.mark.parametrize("make,match", [
    (lambda: nn.MLP(2, [3], activation="softmax"), "sigmoid, tanh, relu, linear"),
    (lambda: nn.Neuron(2, activation="swish"), "sigmoid, tanh, relu, linear"),
    (lambda: nn.MLP(2, [3], output_activation="nope"), "sigmoid, tanh, relu, linear"),
    (lambda: nn.MLP(0, [3]), "nin"),
    (lambda: nn.MLP(2, []), "nouts"),
    (lambda: nn.MLP(2, 3), "nouts"),
    (lambda: nn.MLP(2, [3, 0]), "layer size"),
    (lambda: nn.Layer(2, -1), "nout"),
    (lambda: nn.SGD([Value(1.0)], lr=0), "lr"),
    (lambda: nn.SGD([Value(1.0)], lr=math.nan), "lr"),
    (lambda: nn.SGD([1.0], lr=0.1), "Values"),
    (lambda: nn.Neuron(2, seed=0)([1.0]), "expects 2 inputs"),
])
def test_bad_arguments_are_clear_errors(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_losses_match_torch():
    torch = torch_or_skip()
    preds = [0.2, 0.7, 0.9]
    targets = [0.0, 1.0, 1.0]
    logits = [-3.0, 0.5, 2.0]
    ours = [Value(p) for p in preds]
    ours_z = [Value(z) for z in logits]
    mse = nn.mse_loss(ours, targets)
    bce = nn.binary_cross_entropy(ours, targets)
    bcel = nn.bce_with_logits(ours_z, targets)
    (mse + bce + bcel).backward()
    tp = torch.tensor(preds, dtype=torch.float64, requires_grad=True)
    tz = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    tt = torch.tensor(targets, dtype=torch.float64)
    F = torch.nn.functional
    t_mse, t_bce = F.mse_loss(tp, tt), F.binary_cross_entropy(tp, tt)
    t_bcel = F.binary_cross_entropy_with_logits(tz, tt)
    (t_mse + t_bce + t_bcel).backward()
    for a, b in [(mse.data, t_mse.item()), (bce.data, t_bce.item()), (bcel.data, t_bcel.item())]:
        assert close(a, b)
    for v, g in zip(ours + ours_z, tp.grad.tolist() + tz.grad.tolist()):
        assert close(v.grad, g)


def test_bce_with_logits_gradient_is_z_minus_t():
    """dJ/dnet = sigmoid(net) - t, per example, divided by the batch size for the mean."""
    zs = [Value(z) for z in (-1000.0, -2.0, 0.0, 3.0, 1000.0)]
    ts = [1.0, 0.0, 1.0, 1.0, 0.0]
    loss = nn.bce_with_logits(zs, ts)
    loss.backward()
    assert math.isfinite(loss.data)
    for z, t in zip(zs, ts):
        s = 1 / (1 + math.exp(-z.data)) if z.data > -700 else 0.0
        assert close(z.grad, (s - t) / 5, abs_=1e-15)


def test_loss_errors():
    with pytest.raises(ValueError, match="2 predictions but 3 targets"):
        nn.mse_loss([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="bce_with_logits"):
        nn.bce_with_logits([Value(1.0)], [1.0, 0.0])
    with pytest.raises(ValueError, match="binary_cross_entropy: 1 predictions but 2"):
        nn.binary_cross_entropy([Value(0.5)], [1.0, 0.0])
    with pytest.raises(ValueError, match=r"not inside \(0, 1\)"):
        nn.binary_cross_entropy([Value(1.0)], [1.0])
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\]"):
        nn.binary_cross_entropy([Value(0.5)], [2.0])
    with pytest.raises(TypeError, match="numbers"):
        nn.mse_loss([Value(0.5)], ["a"])


def test_training_reduces_the_loss_on_xor():
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="linear", seed=0)
    data = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]
    opt = nn.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(300):
        loss = nn.mse_loss([model(x) for x, _ in data], [y for _, y in data])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < 0.05 < losses[0]


def test_sgd_refuses_a_diverging_step_and_changes_nothing():
    a, b = Value(1e300, label="a"), Value(2.0, label="b")
    a.grad, b.grad = -1e300, 1.0
    with pytest.raises(OverflowError, match="parameter a .*diverged"):
        nn.SGD([b, a], lr=1e10).step()
    assert (a.data, b.data) == (1e300, 2.0)


# ------------------------------------------------------- inputs and neuron names

def test_each_input_is_one_leaf_per_sample_shared_by_every_first_layer_neuron():
    """micrograd's demo network: 2 inputs, not 2 x 16 copies of them."""
    from autograd_core import topological_order
    model = nn.MLP(2, [16, 16, 1], seed=0)
    out = model([0.5, -1.5])
    leaves = [v for v in topological_order(out) if not v.parents]
    params = model.parameters()
    assert len(leaves) == len(params) + 2
    inputs = sorted((v for v in leaves if v.label in ("x1", "x2")), key=lambda v: v.label)
    assert [v.data for v in inputs] == [0.5, -1.5]
    first = [model.layers[0].neurons[j].w[0] for j in range(16)]
    nets = [v for v in topological_order(out) if v.op == net_op() and v.parents[0] in first]
    assert len(nets) == 16 and all(net.parents[2] is inputs[0] for net in nets)


def test_network_nodes_are_labelled_by_neuron():
    model = nn.MLP(2, [3, 2], seed=0)
    layers = model.forward([1.0, 2.0])
    assert [v.label for v in layers[0]] == ["x1", "x2"]
    assert [v.label for v in layers[1]] == ["L1.h1", "L1.h2", "L1.h3"]
    assert [v.label for v in layers[2]] == ["out1", "out2"]
    assert [nn.Neuron.net_of(v).label for v in layers[1]] == ["L1.h1.net", "L1.h2.net",
                                                              "L1.h3.net"]
    assert [v.op for v in layers[1]] == ["sigmoid"] * 3
    linear = nn.MLP(2, [3, 1], output_activation="linear", seed=0)([1.0, 2.0])
    assert linear.label == "out1" and linear.op == net_op()


def test_a_networks_graph_has_no_anonymous_nodes():
    """So a picture or the step text says L1.h2, never n17."""
    from visualize import node_names
    model = nn.MLP(2, [4, 4, 1], seed=0)
    names = node_names(model([0.3, -0.2])).values()
    assert "L1.h2" in names and "L2.h4.net" in names and "out1" in names
    assert not [n for n in names if n[0] == "n" and n[1:].isdigit()]
    assert "L1.h2" in __import__("visualize").draw_graph(model([0.3, -0.2])).source


def test_hidden_units_and_inputs_can_be_named():
    model = nn.MLP(2, [2, 1], seed=0)
    model.layers[0].neurons[1].name = "edge"
    model.input_names = ["petal", "sepal"]
    assert [p.label for p in model.layers[0].neurons[1].parameters()] == \
        ["edge.w1", "edge.w2", "edge.b"]
    layers = model.forward([1.0, 2.0])
    assert [v.label for v in layers[0]] == ["petal", "sepal"]
    assert layers[1][1].label == "edge"
    assert repr(model.layers[0].neurons[1]) == "Neuron(2, activation='sigmoid', name='edge')"
    with pytest.raises(ValueError, match="input_names must be 2 non-empty strings"):
        model.input_names = ["a"]
    with pytest.raises(TypeError, match="name must be a str"):
        model.layers[0].neurons[0].name = 3


def test_values_given_as_inputs_are_used_as_they_are():
    model = nn.MLP(2, [2, 1], seed=0)
    x = [Value(1.0, label="mine"), 2.0]
    out = model(x)
    out.backward()
    assert x[0].label == "mine" and x[0].grad != 0.0


def test_checked_weighted_sum_is_the_checked_one():
    from autograd_core import weighted_sum
    ws, xs, b = [Value(0.5), Value(-2.0)], [Value(3.0), Value(0.25)], Value(0.1)
    a = weighted_sum(ws, xs, b)
    c = weighted_sum(tuple(ws), tuple(xs), b, checked=True)
    assert (a.data, a.parents, a.local_grads, a.op) == (c.data, c.parents, c.local_grads, c.op)


@pytest.mark.parametrize("call,error,match", [
    (lambda: nn.MLP(2, [2, 1], seed=0)([1.0]), ValueError, "MLP expects 2 inputs, got 1"),
    (lambda: nn.Layer(3, 2, seed=0)([1.0, 2.0]), ValueError, "Layer expects 3 inputs, got 2"),
    (lambda: nn.MLP(2, [2, 1], seed=0)([1.0, "a"]), TypeError, "got 'a'"),
    (lambda: nn.MLP(2, [2, 1], seed=0)([1.0, math.nan]), ValueError, "finite"),
    (lambda: nn.Layer(2, 2, seed=0)([1.0, None]), TypeError, "None"),
])
def test_bad_inputs_are_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
