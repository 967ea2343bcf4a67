"""nn.to_torch / nn.from_torch: the same network on both sides, outputs and gradients."""

import random
import sys

import pytest

import nn
from autograd_core import Value, value_sum
from nn import MLP
from tests.helpers import torch_or_skip


ARCHITECTURES = [
    dict(nin=2, nouts=[8, 8, 1], activation="sigmoid", output_activation="linear"),
    dict(nin=3, nouts=[5, 4, 2], activation="tanh", output_activation="sigmoid"),
    dict(nin=4, nouts=[6, 3], activation="relu", output_activation="tanh"),
    dict(nin=2, nouts=[3], activation="linear", output_activation="relu"),
]


def engine_grads(model, inputs):
    """(outputs, d sum(outputs * coefficients) / d parameter) from the engine."""
    xs = [Value(x) for x in inputs]
    out = model(xs)
    out = out if isinstance(out, list) else [out]
    coefficients = [1.0 + 0.5 * i for i in range(len(out))]
    model.zero_grad()
    value_sum([o * c for o, c in zip(out, coefficients)]).backward()
    return [o.data for o in out], [p.grad for p in model.parameters()], \
        [x.grad for x in xs], coefficients


def torch_grads(seq, inputs, coefficients):
    torch = torch_or_skip()
    x = torch.tensor(inputs, dtype=torch.float64, requires_grad=True)
    seq.zero_grad()
    out = seq(x)
    (out * torch.tensor(coefficients, dtype=torch.float64)).sum().backward()
    # parameters in the engine's order: neuron by neuron, weights then bias
    grads = []
    for module in seq:
        if isinstance(module, torch.nn.Linear):
            for row, bias in zip(module.weight.grad.tolist(), module.bias.grad.tolist()):
                grads += row + [bias]
    return out.tolist(), grads, x.grad.tolist()


def close(a, b, tol=1e-12):
    return len(a) == len(b) and all(abs(x - y) <= tol * max(1.0, abs(y)) for x, y in zip(a, b))


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: a["activation"])
def test_to_torch_same_outputs_and_gradients(arch):
    torch = torch_or_skip()
    model = MLP(arch["nin"], arch["nouts"], activation=arch["activation"],
                output_activation=arch["output_activation"], seed=11)
    seq = nn.to_torch(model)
    assert isinstance(seq, torch.nn.Sequential)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    rng = random.Random(0)
    for _ in range(5):
        inputs = [rng.uniform(-3, 3) for _ in range(arch["nin"])]
        out, grads, xgrads, coefficients = engine_grads(model, inputs)
        t_out, t_grads, t_xgrads = torch_grads(seq, inputs, coefficients)
        assert close(out, t_out) and close(grads, t_grads) and close(xgrads, t_xgrads)


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: a["activation"])
def test_from_torch_same_outputs_and_gradients(arch):
    torch = torch_or_skip()
    torch.manual_seed(3)
    sizes = [arch["nin"]] + arch["nouts"]
    acts = [arch["activation"]] * (len(sizes) - 2) + [arch["output_activation"]]
    modules = []
    for nin, nout, act in zip(sizes, sizes[1:], acts):
        modules.append(torch.nn.Linear(nin, nout, dtype=torch.float64))
        if act != "linear":
            modules.append({"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh,
                            "relu": torch.nn.ReLU}[act]())
    seq = torch.nn.Sequential(*modules)
    model = nn.from_torch(seq)
    assert isinstance(model, MLP)
    assert [layer.neurons[0].activation for layer in model.layers] == acts
    rng = random.Random(1)
    for _ in range(5):
        inputs = [rng.uniform(-3, 3) for _ in range(arch["nin"])]
        out, grads, xgrads, coefficients = engine_grads(model, inputs)
        t_out, t_grads, t_xgrads = torch_grads(seq, inputs, coefficients)
        assert close(out, t_out) and close(grads, t_grads) and close(xgrads, t_xgrads)


def test_round_trip_is_exact():
    torch_or_skip()  # the bridge itself needs torch
    model = MLP(3, [4, 2], activation="tanh", seed=2)
    back = nn.from_torch(nn.to_torch(model))
    assert [p.data for p in back.parameters()] == [p.data for p in model.parameters()]


def test_identity_and_float32_and_no_bias_are_accepted():
    torch = torch_or_skip()
    seq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Identity(),
                              torch.nn.Linear(3, 1, bias=False), torch.nn.Sigmoid())
    model = nn.from_torch(seq)
    assert [layer.neurons[0].activation for layer in model.layers] == ["linear", "sigmoid"]
    assert [n.b.data for n in model.layers[1].neurons] == [0.0]
    x = [0.25, -0.5]
    expected = seq.double()(torch.tensor(x, dtype=torch.float64)).item()
    assert abs(model(x).data - expected) < 1e-12


@pytest.mark.parametrize("modules, message", [
    (lambda torch: [torch.nn.Linear(2, 2), torch.nn.Softmax(dim=0)],
     r"unsupported module 1 \(Softmax\)"),
    (lambda torch: [torch.nn.Linear(2, 2), torch.nn.Dropout()], r"module 1 \(Dropout\)"),
    (lambda torch: [torch.nn.Sigmoid(), torch.nn.Linear(2, 2)],
     r"module 0 \(Sigmoid\) must come right after a Linear"),
    (lambda torch: [torch.nn.Linear(2, 2), torch.nn.Tanh(), torch.nn.ReLU()],
     r"module 2 \(ReLU\) must come right after a Linear"),
    (lambda torch: [torch.nn.Linear(2, 3), torch.nn.Linear(2, 1)],
     r"module 1 \(Linear\) takes 2 inputs but the layer before it gives 3"),
    (lambda torch: [], "no Linear layer"),
    (lambda torch: [torch.nn.Sequential(torch.nn.Linear(2, 2))], r"module 0 \(Sequential\)"),
])
def test_unsupported_sequentials_name_the_module(modules, message):
    torch = torch_or_skip()
    with pytest.raises(ValueError, match=message):
        nn.from_torch(torch.nn.Sequential(*modules(torch)))


def test_from_torch_needs_a_sequential():
    torch = torch_or_skip()
    with pytest.raises(ValueError, match="needs a torch.nn.Sequential, got Linear"):
        nn.from_torch(torch.nn.Linear(2, 2))


def test_to_torch_refuses_other_things():
    torch_or_skip()  # the bridge itself needs torch
    with pytest.raises(TypeError, match="MLP, Layer or Neuron"):
        nn.to_torch(nn.Module())


def test_without_torch_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(ImportError, match=r"pip install torch==2\.13\.0"):
        nn.to_torch(model)
    with pytest.raises(ImportError, match=r"pip install torch==2\.13\.0"):
        nn.from_torch(object())
