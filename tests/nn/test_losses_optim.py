"""softmax, cross_entropy, sse_loss, Momentum and Adam against PyTorch float64 (1e-9)."""

import math

import pytest
from hypothesis import given, settings, strategies as st

import nn
from autograd_core import Value
from tests.helpers import close, torch_or_skip

logit = st.floats(-1000.0, 1000.0, allow_nan=False, allow_infinity=False)
logit_lists = st.lists(logit, min_size=1, max_size=8)


def _values(xs):
    return [Value(x) for x in xs]


# ------------------------------------------------------------------------- softmax

@settings(max_examples=150, deadline=None)
@given(logits=logit_lists, data=st.data())
def test_softmax_values_and_gradients_match_torch(logits, data):
    """Any finite logits, +-1000 included: values, and the gradient of a weighted sum of
    the probabilities (so every entry of the softmax Jacobian matters)."""
    torch = torch_or_skip()
    coeffs = data.draw(st.lists(st.floats(-3, 3), min_size=len(logits), max_size=len(logits)))
    zs = _values(logits)
    probs = nn.softmax(zs)
    total = sum(c * p for c, p in zip(coeffs, probs))
    total.backward()
    tz = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    tp = torch.softmax(tz, dim=0)
    (tp * torch.tensor(coeffs, dtype=torch.float64)).sum().backward()
    assert math.fsum(p.data for p in probs) == pytest.approx(1.0, abs=1e-12)
    for p, q in zip(probs, tp.tolist()):
        assert close(p.data, q, abs_=1e-15)
    for z, g in zip(zs, tz.grad.tolist()):
        assert close(z.grad, g, abs_=1e-12)


def test_softmax_of_plain_numbers_and_of_a_shift():
    a = [p.data for p in nn.softmax([1.0, 2.0, 3.0])]
    b = [p.data for p in nn.softmax([1001.0, 1002.0, 1003.0])]
    assert a == pytest.approx(b, rel=1e-15)
    e = [math.exp(x) for x in (1.0, 2.0, 3.0)]
    assert a == pytest.approx([x / sum(e) for x in e], rel=1e-15)


# -------------------------------------------------------------------- cross-entropy

@settings(max_examples=150, deadline=None)
@given(logits=logit_lists, data=st.data())
def test_cross_entropy_value_and_gradient_match_torch(logits, data):
    torch = torch_or_skip()
    target = data.draw(st.integers(0, len(logits) - 1))
    zs = _values(logits)
    loss = nn.cross_entropy(zs, target)
    loss.backward()
    tz = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(tz.unsqueeze(0), torch.tensor([target]))
    t_loss.backward()
    assert math.isfinite(loss.data)
    assert close(loss.data, t_loss.item(), abs_=1e-9)
    for z, g in zip(zs, tz.grad.tolist()):
        assert close(z.grad, g, abs_=1e-12)


@pytest.mark.parametrize("logits,target", [
    ([1000.0, -1000.0, 0.0], 1), ([1000.0, -1000.0, 0.0], 0), ([-1000.0, -1000.0], 1),
    ([1000.0, 999.0, 1000.0], 2), ([0.3, -0.2, 1.7, 0.0], 3)])
def test_cross_entropy_gradient_is_softmax_minus_onehot(logits, target):
    """The textbook result dJ/dz_i = softmax_i - onehot_i, from the closed form (computed
    here with its own stable formula, not the library's)."""
    zs = _values(logits)
    loss = nn.cross_entropy(zs, target)
    loss.backward()
    top = max(logits)
    e = [math.exp(z - top) for z in logits]
    s = [x / math.fsum(e) for x in e]
    assert math.isfinite(loss.data)
    assert close(loss.data, top + math.log(math.fsum(e)) - logits[target], abs_=1e-12)
    for i, z in enumerate(zs):
        assert close(z.grad, s[i] - (1.0 if i == target else 0.0), abs_=1e-15)


def test_cross_entropy_at_plus_minus_1000_is_torch_exactly_enough():
    loss = nn.cross_entropy([Value(1000.0), Value(-1000.0)], 1)
    assert loss.data == 2000.0   # -log softmax = 2000 exactly; a naive exp(1000) overflows


@pytest.mark.parametrize("call,error,match", [
    (lambda: nn.cross_entropy([Value(1.0), Value(2.0)], 2), ValueError, "out of range.*0..1"),
    (lambda: nn.cross_entropy([Value(1.0)], -1), ValueError, "out of range"),
    (lambda: nn.cross_entropy([Value(1.0)], 0.0), TypeError, "class index"),
    (lambda: nn.cross_entropy([Value(1.0)], True), TypeError, "class index"),
    (lambda: nn.cross_entropy([Value(1.0), Value(0.0)], [0, 1]), TypeError, "class index"),
    (lambda: nn.cross_entropy([], 0), ValueError, "no logits"),
    (lambda: nn.cross_entropy(Value(1.0), 0), TypeError, "list of Values"),
    (lambda: nn.softmax([]), ValueError, "no logits"),
    (lambda: nn.softmax([1.0, math.nan]), ValueError, "finite"),
    (lambda: nn.softmax("abc"), TypeError, "list of Values"),
])
def test_softmax_and_cross_entropy_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------------------------ sse

def test_sse_loss_is_half_the_sum_of_squares_as_torch():
    torch = torch_or_skip()
    preds, targets = [0.75136507, 0.772928465, -2.5], [0.01, 0.99, 1.0]
    ours = _values(preds)
    loss = nn.sse_loss(ours, targets)
    loss.backward()
    tp = torch.tensor(preds, dtype=torch.float64, requires_grad=True)
    t_loss = 0.5 * ((torch.tensor(targets, dtype=torch.float64) - tp) ** 2).sum()
    t_loss.backward()
    assert close(loss.data, t_loss.item())
    for v, g, t in zip(ours, tp.grad.tolist(), targets):
        assert close(v.grad, g)
        assert close(v.grad, v.data - t)   # dC/da = a - y, no 1/n
    assert close(nn.mse_loss(_values(preds), targets).data, 2 * loss.data / len(preds))


def test_sse_loss_is_mazurs_total_error():
    """Mazur's published E_total for his outputs (rounded to his 9 decimals)."""
    loss = nn.sse_loss([Value(0.75136507), Value(0.772928465)], [0.01, 0.99])
    assert abs(loss.data - 0.298371109) < 5e-9


def test_sse_loss_errors():
    with pytest.raises(ValueError, match="sse_loss: 2 predictions but 1 targets"):
        nn.sse_loss([Value(1.0), Value(2.0)], [1.0])
    with pytest.raises(TypeError, match="sse_loss: targets must be numbers"):
        nn.sse_loss([Value(1.0)], [None])


# ---------------------------------------------------------------------- optimisers

def _pairs_with_torch(model, seq):
    """(our parameter, torch tensor, index) in our parameters() order."""
    torch = torch_or_skip()
    linears = [m for m in seq if isinstance(m, torch.nn.Linear)]
    pairs = []
    for layer, linear in zip(model.layers, linears):
        for i, neuron in enumerate(layer.neurons):
            for j, w in enumerate(neuron.w):
                pairs.append((w, linear.weight, (i, j)))
            pairs.append((neuron.b, linear.bias, (i,)))
    assert [p for p, _, _ in pairs] == model.parameters()
    return pairs


DATA = [([0.5, -1.0], 0), ([1.5, 0.25], 2), ([-0.75, 0.8], 1), ([0.1, 0.1], 2)]


def _train_both(make_ours, make_torch, steps=25):
    """The same 2-4-3 network trained by us and by torch with cross-entropy; yields the
    largest parameter difference after each step."""
    torch = torch_or_skip()
    model = nn.MLP(2, [4, 3], activation="tanh", output_activation="linear", seed=5)
    seq = nn.to_torch(model)
    pairs = _pairs_with_torch(model, seq)
    ours, theirs = make_ours(model.parameters()), make_torch(seq.parameters())
    X = torch.tensor([x for x, _ in DATA], dtype=torch.float64)
    y = torch.tensor([c for _, c in DATA])
    for _ in range(steps):
        loss = sum(nn.cross_entropy(model(x), c) for x, c in DATA) / len(DATA)
        ours.zero_grad()
        loss.backward()
        ours.step()
        theirs.zero_grad()
        t_loss = torch.nn.functional.cross_entropy(seq(X), y)
        t_loss.backward()
        theirs.step()
        assert close(loss.data, t_loss.item())
        yield max(abs(p.data - t[index].item()) for p, t, index in pairs)


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_momentum_matches_torch_sgd_with_momentum(momentum):
    torch = torch_or_skip()
    diffs = list(_train_both(lambda ps: nn.Momentum(ps, lr=0.3, momentum=momentum),
                             lambda ps: torch.optim.SGD(ps, lr=0.3, momentum=momentum)))
    assert max(diffs) < 1e-9


@pytest.mark.parametrize("kwargs", [{}, {"lr": 0.05}, {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-3}])
def test_adam_matches_torch_adam(kwargs):
    torch = torch_or_skip()
    diffs = list(_train_both(lambda ps: nn.Adam(ps, **kwargs),
                             lambda ps: torch.optim.Adam(ps, **kwargs)))
    assert max(diffs) < 1e-9


def test_sgd_matches_torch_sgd():
    torch = torch_or_skip()
    diffs = list(_train_both(lambda ps: nn.SGD(ps, lr=0.5),
                             lambda ps: torch.optim.SGD(ps, lr=0.5)))
    assert max(diffs) < 1e-9


def test_momentum_first_steps_by_hand():
    """v1 = g1, w1 = w0 - lr g1; v2 = mu g1 + g2, w2 = w1 - lr v2 (the doc's rule)."""
    w = Value(1.0)
    opt = nn.Momentum([w], lr=0.1, momentum=0.5)
    w.grad = 2.0
    opt.step()
    assert w.data == 1.0 - 0.1 * 2.0
    w.grad = -1.0
    opt.step()
    assert w.data == pytest.approx(0.8 - 0.1 * (0.5 * 2.0 - 1.0), abs=1e-15)


def test_adam_first_step_moves_each_weight_by_about_lr():
    """With bias correction the first step is lr * g / (|g| + eps'): about lr, whatever g."""
    ws = [Value(0.0), Value(0.0)]
    ws[0].grad, ws[1].grad = 1e-3, -50.0
    nn.Adam(ws, lr=0.01).step()
    assert ws[0].data == pytest.approx(-0.01, rel=1e-4)
    assert ws[1].data == pytest.approx(0.01, rel=1e-9)


@pytest.mark.parametrize("make", [
    lambda w: nn.Momentum([w, Value(1.0, label="ok")], lr=1e300, momentum=0.5),
    lambda w: nn.Adam([Value(1.0, label="ok"), w], lr=1e300, eps=1e-300),
])
def test_a_diverging_step_changes_nothing(make):
    w = Value(-1e300, label="big")
    opt = make(w)
    for p in opt.params:
        p.grad = 1e300 if p is w else 1.0
    before = [p.data for p in opt.params]
    state = {k: list(v) for k, v in vars(opt).items() if k in ("velocity", "m", "v")}
    with pytest.raises(OverflowError, match="parameter big .*diverged"):
        opt.step()
    assert [p.data for p in opt.params] == before
    assert {k: getattr(opt, k) for k in state} == state


@pytest.mark.parametrize("make,match", [
    (lambda: nn.Momentum([Value(1.0)], lr=0.1, momentum=1.0), r"momentum must lie in \[0, 1\)"),
    (lambda: nn.Momentum([Value(1.0)], lr=0.1, momentum=-0.1), "momentum"),
    (lambda: nn.Momentum([Value(1.0)], lr=-1), "lr must be a positive"),
    (lambda: nn.Adam([Value(1.0)], betas=(0.9,)), "betas must be a pair"),
    (lambda: nn.Adam([Value(1.0)], betas=(0.9, 1.0)), "beta2"),
    (lambda: nn.Adam([Value(1.0)], betas=(math.nan, 0.9)), "beta1"),
    (lambda: nn.Adam([Value(1.0)], eps=0), "eps"),
    (lambda: nn.Adam([Value(1.0)], lr=math.inf), "lr"),
    (lambda: nn.Adam([1.0]), "Adam: parameters must be Values"),
])
def test_optimiser_argument_errors(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_optimisers_by_name():
    assert nn.OPTIMIZERS == {"sgd": nn.SGD, "momentum": nn.Momentum, "adam": nn.Adam}


def test_an_optimiser_given_one_value_says_to_pass_a_list():
    import nn as _nn
    from autograd_core import Value as _Value
    with pytest.raises(TypeError, match="params must be a list of Values"):
        _nn.Adam(_Value(1.0), lr=0.1)


# ------------------------------------------------------------ optimiser state
def _run(make, steps, resume_at=None):
    """Train a 2-4-3 network `steps` steps; with resume_at, save the model and the
    optimiser state (through JSON) there and go on with fresh objects built from them."""
    import json
    from nn.serialize import model_from_dict, model_to_dict

    model = nn.MLP(2, [4, 3], activation="tanh", output_activation="linear", seed=5)
    opt = make(model.parameters())
    for k in range(steps):
        if k == resume_at:
            saved = json.loads(json.dumps({"model": model_to_dict(model),
                                           "optimizer": opt.state_dict()}))
            model = model_from_dict(saved["model"])
            opt = make(model.parameters())
            opt.load_state_dict(saved["optimizer"])
        loss = sum(nn.cross_entropy(model(x), c) for x, c in DATA) / len(DATA)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [p.data for p in model.parameters()]


@pytest.mark.parametrize("make", [
    lambda ps: nn.SGD(ps, lr=0.5),
    lambda ps: nn.Momentum(ps, lr=0.3, momentum=0.9),
    lambda ps: nn.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6),
], ids=["sgd", "momentum", "adam"])
@pytest.mark.parametrize("resume_at", [1, 4])
def test_saved_optimiser_state_resumes_exactly(make, resume_at):
    uninterrupted = _run(make, 8)
    assert _run(make, 8, resume_at=resume_at) == uninterrupted  # bit for bit


@pytest.mark.parametrize("make", [lambda ps: nn.Momentum(ps, lr=0.3),
                                  lambda ps: nn.Adam(ps, lr=0.05)], ids=["momentum", "adam"])
def test_without_its_state_momentum_and_adam_diverge_from_the_run(make):
    """The test above could not fail if the state made no difference: here it does."""
    import json
    from nn.serialize import model_from_dict, model_to_dict
    model = nn.MLP(2, [4, 3], activation="tanh", output_activation="linear", seed=5)
    opt = make(model.parameters())
    for _ in range(3):
        loss = sum(nn.cross_entropy(model(x), c) for x, c in DATA) / len(DATA)
        opt.zero_grad()
        loss.backward()
        opt.step()
    copy = model_from_dict(json.loads(json.dumps(model_to_dict(model))))
    restarted = make(copy.parameters())  # no load_state_dict
    for m, o in ((model, opt), (copy, restarted)):
        loss = sum(nn.cross_entropy(m(x), c) for x, c in DATA) / len(DATA)
        o.zero_grad()
        loss.backward()
        o.step()
    assert [p.data for p in model.parameters()] != [p.data for p in copy.parameters()]


def test_optimiser_state_dict_contents():
    ws = [Value(1.0), Value(2.0)]
    adam = nn.Adam(ws, lr=0.01, betas=(0.5, 0.9), eps=1e-6)
    ws[0].grad, ws[1].grad = 0.5, -1.0
    adam.step()
    state = adam.state_dict()
    assert state["optimizer"] == "adam" and state["t"] == 1
    assert state["betas"] == [0.5, 0.9] and state["eps"] == 1e-6 and state["lr"] == 0.01
    assert state["m"] == pytest.approx([0.25, -0.5]) and state["v"] == pytest.approx([0.025, 0.1])
    assert nn.SGD(ws, lr=0.1).state_dict() == {"optimizer": "sgd", "lr": 0.1}
    assert nn.Momentum(ws, lr=0.1, momentum=0.5).state_dict() == {
        "optimizer": "momentum", "lr": 0.1, "momentum": 0.5, "velocity": [0.0, 0.0]}


@pytest.mark.parametrize("change,match", [
    (lambda s: "not a dict", "must be a dict from state_dict"),
    (lambda s: dict(s, optimizer="momentum"), "for 'momentum', not 'adam'"),
    (lambda s: {k: v for k, v in s.items() if k != "v"}, "has no 'v'"),
    (lambda s: dict(s, m=[0.0]), r"'m' must be a list of 2 numbers \(one per parameter\), got 1"),
    (lambda s: dict(s, v=[0.0, float("nan")]), "'v' holds nan, not a finite number"),
    (lambda s: dict(s, m=[0.0, "x"]), "'m' holds 'x'"),
    (lambda s: dict(s, t=-1), "'t' .* whole number >= 0"),
    (lambda s: dict(s, t=1.5), "'t' .* whole number >= 0"),
    (lambda s: dict(s, betas=[0.9, 1.0]), "settings are wrong: .*beta2"),
    (lambda s: dict(s, lr=-1), "settings are wrong: .*lr must be a positive"),
])
def test_a_bad_optimiser_state_changes_nothing(change, match):
    ws = [Value(1.0), Value(2.0)]
    adam = nn.Adam(ws, lr=0.01)
    ws[0].grad, ws[1].grad = 0.5, -1.0
    adam.step()
    before = adam.state_dict()
    with pytest.raises(ValueError, match=match):
        adam.load_state_dict(change(adam.state_dict()))
    assert adam.state_dict() == before


def test_a_loss_name_means_one_thing_in_training_and_in_neuron_backward():
    from nn.loss_table import LOSS_TABLE, LOSSES, NEURON_LOSSES, loss_named
    assert list(LOSSES) == ["bce", "mse", "ce"]  # what chainrule train --loss accepts
    names = [n for row in LOSS_TABLE.values() for n in (row.name, *row.spellings)]
    assert len(names) == len(set(names))  # no name on two rows
    assert set(NEURON_LOSSES) <= set(names)
    # "bce" is a logit's binary cross-entropy for the Trainer and for neuron_backward
    model = nn.MLP(2, [3, 1], output_activation="linear", seed=1)
    x, t = [0.4, -0.7], 1.0
    trained = LOSSES["bce"].function([[model(x)]], [t]).data
    assert nn.neuron_backward(model, x, t, loss="bce").cost == trained
    assert loss_named("bce_with_logits") is loss_named("bce")
    assert loss_named("cross_entropy") is loss_named("ce")
    with pytest.raises(ValueError, match="needs linear output neurons"):
        nn.neuron_backward(nn.MLP(2, [1], seed=0), x, t, loss="bce")
    sigmoid = nn.MLP(2, [3, 1], seed=1)
    assert nn.neuron_backward(sigmoid, x, t, loss="sigmoid_bce").cost == \
        nn.binary_cross_entropy([sigmoid(x)], [t]).data
