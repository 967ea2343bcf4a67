"""What the playground shows, checked against independent oracles, without a browser.

The weight and neuron derivations, the gradients in the network picture and the
saturation marks are compared with PyTorch float64 on the same network and batch; the
expression tab with torch and with the lines `chainrule grad` prints; saved states with
uninterrupted training; and arbitrary requests never break a session.
"""

import json
import math

import pytest
from hypothesis import given, settings, strategies as st

import nn
from autograd_core.ops import sigmoid
from nn.datasets import load_dataset
from playground.expression import ExpressionProblem, evaluate
from playground.network import LIMITS, NetworkSession, SettingsError
from playground.tab import Tab

from tests.helpers import close, run_cli, torch_or_skip


def torch_pass(session, weights, chosen):
    """Torch float64 forward/backward of the session's network at `weights` on the
    points `chosen`: (nets per layer, outputs per layer, parameter grads, loss)."""
    torch = torch_or_skip()
    sizes = [len(session.X[0])] + [len(l.neurons) for l in session.model.layers]
    acts = [l.neurons[0].activation for l in session.model.layers]
    params, k = [], 0
    for nin, nout in zip(sizes, sizes[1:]):
        W = torch.zeros(nout, nin, dtype=torch.float64)
        b = torch.zeros(nout, dtype=torch.float64)
        for j in range(nout):
            for i in range(nin):
                W[j, i] = weights[k]
                k += 1
            b[j] = weights[k]
            k += 1
        params.append((W.requires_grad_(), b.requires_grad_()))
    x = torch.tensor([session.X[i] for i in chosen], dtype=torch.float64)
    t = torch.tensor([session.y[i] for i in chosen], dtype=torch.float64)
    nets, outs = [], []
    for (W, b), act in zip(params, acts):
        net = x @ W.T + b
        net.retain_grad()
        x = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
             "linear": lambda z: z}[act](net)
        x.retain_grad()
        nets.append(net)
        outs.append(x)
    z = x[:, 0]
    if session.config.loss == "ce":
        loss = torch.nn.functional.cross_entropy(x, t.long())
    elif session.config.loss == "bce":
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, t)
    else:
        loss = torch.mean((z - t) ** 2)
    loss.backward()
    grads = []
    for W, b in params:
        for j in range(W.shape[0]):
            grads += W.grad[j].tolist() + [b.grad[j].item()]
    return nets, outs, grads, loss.item()


CONFIGS = [{}, {"activation": "tanh", "hidden": "5,3", "batch_size": 16, "dataset": "xor",
                "samples": 60},
           {"activation": "relu", "loss": "mse", "dataset": "circles", "samples": 50},
           {"dataset": "sine", "hidden": "6", "samples": 30},
           {"dataset": "digits", "hidden": "5,4", "samples": 40, "batch_size": 6}]


@pytest.mark.parametrize("raw", CONFIGS)
def test_weight_derivation_equals_torch(raw):
    session = NetworkSession(raw)
    for steps in (0, 3):
        if steps:
            session.train(steps)
        weights = session.gradient[0] if session.gradient else [p.data for p in session.params]
        chosen = session.gradient[1] if session.gradient else list(range(session.batch))
        nets, outs, grads, loss = torch_pass(session, weights, chosen)
        if session.gradient:  # the picture's gradients are the step's: torch's too
            assert all(close(a, b, 1e-9, 1e-13) for a, b in zip(session.gradient[2], grads))
        for layer in range(1, len(session.model.layers) + 1):
            fan_in = len(session.model.layers[layer - 1].neurons[0].w)
            for source in sorted({0, 1, fan_in // 3, fan_in}):
                d = session.weight_derivation(layer, 1, source)
                index = session.params.index(
                    session.model.layers[layer - 1].neurons[0].b if source == 0
                    else session.model.layers[layer - 1].neurons[0].w[source - 1])
                assert close(d["grad"], grads[index], 1e-9, 1e-13)
                assert close(d["total"], d["grad"], 1e-9, 1e-13)
                assert close(d["loss"], loss, 1e-12)
                assert [r[0] for r in d["rows"]] == chosen
                # Each row's delta is one point's (its own cost); torch's net grads are
                # of the batch's mean cost, and mse's (o - y)^2 is twice 1/2 (y - o)^2.
                scale = (2.0 if session.config.loss == "mse" else 1.0) / len(chosen)
                assert d["factor"] / d["batch"] == scale
                for s, (sample, o, delta, product) in enumerate(d["rows"]):
                    assert close(scale * delta, nets[layer - 1].grad[s, 0].item(), 1e-9, 1e-14)
                    expected_o = 1.0 if source == 0 else (
                        session.X[sample][source - 1] if layer == 1
                        else outs[layer - 2][s, source - 1].item())
                    assert close(o, expected_o, 1e-12, 1e-15)
                    assert product == o * delta


@pytest.mark.parametrize("raw", CONFIGS)
def test_neuron_delta_equation_equals_torch(raw):
    session = NetworkSession(raw)
    session.train(2)
    nets, outs, _, _ = torch_pass(session, session.gradient[0], session.gradient[1])
    scale = (2.0 if session.config.loss == "mse" else 1.0) / session.batch
    for layer in range(1, len(session.model.layers) + 1):
        for neuron in (1, len(session.model.layers[layer - 1].neurons)):
            for sample in (0, 3):
                d = session.neuron_derivation(layer, neuron, sample)
                assert d["sample"] == session.gradient[1][sample]
                torch_delta = nets[layer - 1].grad[sample, neuron - 1].item()
                assert close(scale * d["delta"], torch_delta, 1e-9, 1e-14)
                assert close(scale * d["engine"], torch_delta, 1e-9, 1e-14)
                assert close(d["net"], nets[layer - 1][sample, neuron - 1].item(), 1e-12)
                assert d["line"].startswith(f"delta_{d['name']} = ")
                assert f" = {d['delta']:.6f}" in d["line"]  # its value, to the digits shown


def test_optimisers_by_name_and_their_default_rates():
    for name, lr in (("sgd", 1.5), ("momentum", 0.15), ("adam", 0.03)):
        session = NetworkSession({"optimizer": name})
        assert type(session.trainer.optimizer) is nn.OPTIMIZERS[name]
        assert session.trainer.optimizer.lr == lr == session.config.lr
    assert NetworkSession({"optimizer": "adam", "lr": 0.5}).trainer.optimizer.lr == 0.5
    with pytest.raises(SettingsError, match="unknown optimiser 'rmsprop'"):
        NetworkSession({"optimizer": "rmsprop"})


def test_saturation_marks_match_torch_derivatives():
    torch = torch_or_skip()
    session = NetworkSession({"activation": "tanh", "hidden": "4,3"})
    big = session.model.layers[0].neurons[0]
    for w in big.w:
        w.data = 40.0  # tanh'(net) is tiny for almost every point
    frame = session.picture()
    points = torch.tensor(session.X[::200 // 30][:30], dtype=torch.float64)
    assert len(points) == 30
    x, marks = points, []
    for layer in session.model.layers[:2]:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64)
        net = x @ W.T + b
        x = torch.tanh(net)
        flat = (1 - x ** 2 < 0.01).double().mean(dim=0).tolist()
        marks.append([round(f, 3) for f in flat])
    shown = [[n["saturated"] for n in layer["neurons"]] for layer in frame["network"]["layers"]]
    assert shown[:2] == marks
    assert shown[0][0] > 0.8
    assert shown[2] == [None]  # the linear output neuron cannot saturate


def test_frame_loss_accuracy_and_heatmap_equal_the_model():
    torch = torch_or_skip()
    session = NetworkSession({"samples": 100})
    frame = session.picture()  # before any step: on all the data
    x = torch.tensor(session.X, dtype=torch.float64)
    t = torch.tensor(session.y, dtype=torch.float64)
    with torch.no_grad():
        z = nn.to_torch(session.model)(x)[:, 0]
    assert close(frame["loss"],
                 torch.nn.functional.binary_cross_entropy_with_logits(z, t).item(), 1e-9)
    assert frame["accuracy"] == ((z > 0).double() == t).double().mean().item()
    session.train(5)
    frame = session.picture()
    # After a step: that step's batch (all of it here), at the weights it saw.
    _, outs, _, loss = torch_pass(session, session.gradient[0], session.gradient[1])
    z = outs[-1][:, 0].detach()
    assert close(frame["loss"], loss, 1e-9)
    assert frame["accuracy"] == ((z > 0).double() == t).double().mean().item()
    x0, x1, y0, y1 = frame["field"]["bounds"]
    n = frame["field"]["n"]
    corner = torch.tensor([[x1, y1], [x0, y0]], dtype=torch.float64)
    with torch.no_grad():
        p = torch.sigmoid(nn.to_torch(session.model)(corner))[:, 0].tolist()
    assert frame["field"]["values"][n * n - 1] == round(p[0], 4)
    assert frame["field"]["values"][0] == round(p[1], 4)
    assert frame["point"] == [5, frame["loss"], frame["accuracy"]]


def test_loss_falls_when_training():
    session = NetworkSession({})
    first = session.picture()["loss"]
    session.train(30)
    session.measured = None  # measure on all the data again, as before the first step
    assert session.picture()["loss"] < 0.9 * first


SAVED = [{"batch_size": 10, "samples": 40, "hidden": "3"},            # mini-batches
         {"samples": 40, "hidden": "3,2", "activation": "tanh"},          # full batch
         {"dataset": "digits", "samples": 60, "hidden": "4"}]              # 10 classes


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("raw", SAVED, ids=["minibatch", "fullbatch", "digits"])
def test_saved_state_continues_exactly(optimizer, raw):
    """A tab saved after some steps and loaded into a new session trains on exactly as
    the unsaved tab does: weight for weight, bit for bit (optimiser state, batch order)."""
    if raw.get("dataset") == "digits":
        pytest.importorskip("sklearn")
    a = NetworkSession(dict(raw, optimizer=optimizer))
    a.train(5)  # mid-epoch for the mini-batches (4 batches an epoch)
    saved = json.loads(json.dumps(a.state()))
    assert saved["version"] == 2 and saved["optimizer"]["optimizer"] == optimizer
    b = NetworkSession.from_state(saved)
    assert [p.data for p in b.params] == [p.data for p in a.params]
    assert b.steps == 5 and b.epoch == a.epoch and b.history == a.history
    for _ in range(6):
        a.train(1)
        b.train(1)
        assert b.gradient[1] == a.gradient[1]  # the same batch
        assert [p.data for p in b.params] == [p.data for p in a.params]
    if optimizer != "sgd":
        # ... which takes the optimiser's state: without it the weights part ways
        c = NetworkSession.from_state(dict(saved, version=1))
        assert c.note and "starts again from zero" in c.note
        c.train(1)
        d = NetworkSession.from_state(saved)
        d.train(1)
        assert [p.data for p in c.params] != [p.data for p in d.params]


def test_a_version_1_file_still_loads():
    state = json.loads(json.dumps(NetworkSession({"hidden": "3", "samples": 20}).state()))
    state["version"] = 1
    del state["optimizer"], state["history"]
    session = NetworkSession.from_state(state)
    assert session.note is None  # SGD has no running state to lose
    assert "note" not in session.setup()


@pytest.mark.parametrize("change, message", [
    (lambda s: s["model"]["layers"][0]["weights"][0].__setitem__(0, "x"), "not a finite number"),
    (lambda s: s["settings"].__setitem__("hidden", [4]), "the saved network is"),
    (lambda s: s.__setitem__("version", 7), "version 7 is not supported"),
    (lambda s: s["optimizer"].__setitem__("velocity", [0.0]), "optimiser state cannot be used"),
    (lambda s: s["optimizer"].__setitem__("optimizer", "adam"), "is for 'adam', not 'momentum'"),
    (lambda s: s.__setitem__("steps", -3), "step count -3"),
    (lambda s: s.__setitem__("history", [[1, "x", 0.5]]), "saved curves"),
    (lambda s: s["settings"].__setitem__("hidden", [999]), "from 1 to 16"),
])
def test_corrupt_saved_states_are_refused(change, message):
    state = json.loads(json.dumps(NetworkSession({"hidden": "3", "samples": 20,
                                                  "optimizer": "momentum"}).state()))
    change(state)
    with pytest.raises(SettingsError, match=message):
        NetworkSession.from_state(state)


def test_expression_tab_equals_torch_and_the_cli():
    torch = torch_or_skip()
    result = evaluate("sigmoid(w*x + b) * log(x)", "w=-1.2, x=0.5 b=0.1")
    w, x, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (-1.2, 0.5, 0.1))
    out = torch.sigmoid(w * x + b) * torch.log(x)
    out.backward()
    assert close(result["value"], out.item(), 1e-12)
    for name, t in (("w", w), ("x", x), ("b", b)):
        assert close(result["gradients"][name], t.grad.item(), 1e-12)
    status, printed, _ = run_cli(["grad", "sigmoid(w*x + b) * log(x)", "w=-1.2", "x=0.5",
                                  "b=0.1"])
    assert status == 0
    cli_lines = [line.split(". ", 1)[1] for line in printed.splitlines()
                 if line.startswith("  ") and ". d" in line]
    assert [s["line"] for s in result["steps"]] == cli_lines
    assert result["legend"] == [] or all(name.startswith("n") for name, _ in result["legend"])
    # Each step's edge exists in the graph sent to the page.
    nodes = result["nodes"]
    for step in result["steps"]:
        assert nodes[step["node"]]["parents"][step["index"]]["id"] == step["parent"]


def test_expression_errors_say_where():
    with pytest.raises(ExpressionProblem) as problem:
        evaluate("x + * y", "x=1 y=2")
    assert "malformed" in str(problem.value) and "^" in problem.value.where
    with pytest.raises(ExpressionProblem, match="division by zero|divide|zero"):
        evaluate("1/x", "x=0")
    long_chain = "+".join(["x*2"] * 75)  # 299 characters, over 200 nodes
    with pytest.raises(ExpressionProblem, match="draws up to 150"):
        evaluate(long_chain, "x=1")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
KEYS = st.sampled_from(["type", "settings", "steps", "layer", "neuron", "source", "sample",
                        "text", "values", "state", "hidden", "lr", "samples"])
TYPES = st.sampled_from(["configure", "train", "frame", "weight", "neuron", "save", "load",
                         "expression", "x"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(KEYS, JSON, max_size=5).flatmap(
    lambda d: TYPES.map(lambda t: dict(d, type=t))), min_size=1, max_size=4))
def test_any_request_gets_one_json_reply(requests):
    tab = Tab()
    for request in requests:
        if request.get("type") == "configure" and isinstance(request.get("settings"), dict):
            request["settings"]["samples"] = 12  # keep each example quick
        if request.get("type") == "train":
            request["steps"] = 1
        reply = json.loads(tab.reply_json(json.dumps(request)))
        assert reply["type"] in ("error", "setup", "frame", "weight", "neuron", "state",
                                 "expression")
        if reply["type"] == "error":
            assert reply["message"] and "internal error" not in reply["message"]


def test_limits_are_what_the_page_is_told():
    setup = NetworkSession({"samples": 10, "hidden": "2"}).setup()
    assert setup["limits"] == LIMITS
    with pytest.raises(SettingsError, match="from 1 to 16"):
        NetworkSession({"hidden": [17]})
    with pytest.raises(SettingsError, match="from 2 to 500"):
        NetworkSession({"samples": 501})


def test_many_steps_keep_the_numbers():
    """After many steps of the batch-compiled step, the gradients shown and the
    derivations still equal torch's."""
    session = NetworkSession({"samples": 60, "hidden": "4,3"})
    session.train(32)
    _, _, grads, loss = torch_pass(session, session.gradient[0], session.gradient[1])
    assert all(close(a, b, 1e-9, 1e-13) for a, b in zip(session.gradient[2], grads))
    assert close(session.picture()["loss"], loss, 1e-9)
    d = session.weight_derivation(2, 3, 4)
    index = session.params.index(session.model.layers[1].neurons[2].w[3])
    assert close(d["grad"], grads[index], 1e-9, 1e-13)
    assert close(d["total"], grads[index], 1e-9, 1e-13)


def test_digits_frame_equals_torch():
    """The digits view: every held-out digit's answer, the confusion matrix and the test
    accuracy are torch's on the same network; the frame stays within the limits."""
    torch = torch_or_skip()
    pytest.importorskip("sklearn")
    session = NetworkSession({"dataset": "digits", "samples": 200})
    assert session.settings["hidden"] == [16]  # the dataset's 25, within LIMITS
    session.train(20)
    frame = session.picture()
    field = frame["field"]
    x = torch.tensor(session.X_test, dtype=torch.float64)
    with torch.no_grad():
        p = torch.softmax(nn.to_torch(session.model)(x), dim=1)
    predicted = p.argmax(dim=1).tolist()
    assert field["kind"] == "digits" and field["predicted"] == predicted
    truth = [int(t) for t in session.y_test]
    assert field["confusion"] == [[sum(1 for t, g in zip(truth, predicted) if (t, g) == (i, j))
                                   for j in range(10)] for i in range(10)]
    assert field["test_accuracy"] == sum(t == g for t, g in zip(truth, predicted)) / len(truth)
    assert field["shown"] == len(session.X_test) == 50
    setup = session.setup()
    assert setup["X"] == [] and len(setup["X_test"]) == 50 and setup["resolved"]["classes"] == 10
    assert [len(l["neurons"]) for l in frame["network"]["layers"]] == [16, 10]
    assert len(frame["network"]["layers"][0]["neurons"][0]["w"]) == 64
    with pytest.raises(SettingsError, match="from 2 to 500"):
        NetworkSession({"dataset": "digits", "samples": 1797})
    with pytest.raises(SettingsError, match="loss bce does not fit digits"):
        NetworkSession({"dataset": "digits", "loss": "bce"})


def test_defaults_are_the_dataset_rows_as_chainrule_train_reads_them():
    """The tab's defaults are each dataset's row, as `chainrule train`'s are: xor trains
    tanh units at lr 0.3 here too (the page used to send sigmoid at 1.5)."""
    from nn.training_config import TrainConfig
    for name in ("xor", "moons", "circles", "spiral", "sine"):
        tab = NetworkSession({"dataset": name}).config
        cli = TrainConfig(dataset=name).resolved()
        assert (tab.activation, tab.lr, tab.loss, tab.hidden, tab.samples, tab.noise) == \
            (cli.activation, cli.lr, cli.loss, cli.hidden, cli.samples, cli.noise)
    assert NetworkSession({"dataset": "xor"}).config.activation == "tanh"
