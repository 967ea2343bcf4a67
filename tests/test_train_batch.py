"""Training through the batch compile: nn.train.batch_predictor (the network over many
points at once) and nn.train.batch_step (the Trainer's default step), against the eager
engine: the engine's forward pass point by point, and engine_step (forward and
backward() over the same batch, the loss from nn.losses).

Every comparison runs with numpy (array form) and with numpy hidden (the per-sample
compiled code), as the batch compile does."""

import contextlib
import math
import random
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_core import Value
from nn import MLP
from nn.train import LOSSES, batch_predictor, batch_step, engine_step, predict

np = pytest.importorskip("numpy")

SETTINGS = dict(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


@contextlib.contextmanager
def numpy_hidden(hide=True):
    """`import numpy` raises ImportError inside (the batch compile imports it when it
    compiles, and the compiled function keeps what it found)."""
    if not hide:
        yield
        return
    saved = sys.modules.get("numpy")
    sys.modules["numpy"] = None
    try:
        yield
    finally:
        sys.modules["numpy"] = saved


@pytest.fixture(params=["numpy", "no numpy"])
def use_numpy(request):
    return request.param == "numpy"


def engine_outputs(model, points):
    outs = []
    for p in points:
        out = model([Value(v) for v in p])
        outs.append([o.data for o in (out if isinstance(out, list) else [out])])
    return outs


def assert_rows_close(got, want, rel=1e-12):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert len(g) == len(w)
        for a, b in zip(g, w):
            assert abs(a - b) <= rel * max(abs(b), 1.0), (a, b)


# ------------------------------------------------------------------ batch_predictor
@settings(**SETTINGS)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
       activation=st.sampled_from(["sigmoid", "tanh", "relu", "linear"]),
       output=st.sampled_from(["sigmoid", "tanh", "relu", "linear"]),
       count=st.integers(1, 40), seed=st.integers(0, 10 ** 6))
def test_predictor_equals_the_engine_point_by_point(sizes, activation, output, count, seed):
    model = MLP(sizes[0], sizes[1:], activation=activation, output_activation=output,
                seed=seed)
    rng = random.Random(seed)
    points = [[rng.uniform(-4, 4) for _ in range(sizes[0])] for _ in range(count)]
    want = engine_outputs(model, points)
    for hide in (False, True):
        with numpy_hidden(hide):
            predictor = batch_predictor(model)
        assert predictor.uses_numpy is not hide
        assert_rows_close(predictor(points), want)


def test_a_50_by_50_grid_at_once_follows_the_weights_as_they_change(use_numpy):
    model = MLP(2, [8, 8, 1], activation="tanh", output_activation="linear", seed=3)
    with numpy_hidden(not use_numpy):
        predictor = batch_predictor(model, "bce")
    grid = [[-3 + 6 * i / 49, -3 + 6 * j / 49] for j in range(50) for i in range(50)]
    before = predictor(grid)
    assert len(before) == 2500 and all(len(row) == 1 and 0 < row[0] < 1 for row in before)
    for p in model.parameters():  # a training step's worth of change
        p.data += 0.1
    after = predictor(grid)
    want = [[1 / (1 + math.exp(-z[0]))] for z in engine_outputs(model, grid)]
    assert_rows_close(after, want)
    assert after != before
    if use_numpy:
        array = predictor.arrays(np.array(grid))
        assert array.shape == (2500, 1)
        assert_rows_close(array.tolist(), engine_outputs(model, grid))


def test_predict_gives_the_probabilities_of_each_loss(use_numpy):
    rng = random.Random(5)
    for loss, nout, output in (("bce", 1, "linear"), ("mse", 1, "sigmoid"), ("ce", 4, "linear")):
        model = MLP(3, [5, nout], activation="sigmoid", output_activation=output, seed=2)
        points = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(17)]
        with numpy_hidden(not use_numpy):
            got = predict(model, points, loss)
        raw = engine_outputs(model, points)
        if loss == "bce":
            want = [[1 / (1 + math.exp(-z[0]))] for z in raw]
        elif loss == "ce":
            want = [[math.exp(v) / sum(math.exp(u) for u in z) for v in z] for z in raw]
        else:
            want = raw
        assert_rows_close(got, want, rel=1e-12)


def test_predictor_errors_are_one_clear_line(use_numpy):
    model = MLP(2, [3, 1], seed=0)
    with numpy_hidden(not use_numpy):
        predictor = batch_predictor(model)
    with pytest.raises(ValueError, match="each a list of 2 numbers"):
        predictor([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="finite"):
        predictor([[1.0, float("nan")]])
    assert predict(model, [], "bce") == []


# ------------------------------------------------------- batch_step == engine_step
from nn.datasets import DATASETS  # noqa: E402
from nn.train import HIDDEN_ACTIVATIONS, Trainer, TrainConfig  # noqa: E402


def combinations():
    """Every dataset with every loss that serves it and every hidden activation."""
    for name, data in DATASETS.items():
        for loss, spec in LOSSES.items():
            if data.classes in spec.classes:
                for activation in HIDDEN_ACTIVATIONS:
                    yield name, loss, activation


def small_config(dataset, **changes):
    samples = 60 if dataset == "digits" else 24
    return TrainConfig(dataset=dataset, samples=samples, seed=1, **changes)


def assert_vectors_close(got, want, rel=1e-12):
    """1e-12 relative per component, or normwise (relative to the largest component):
    a component that cancels inside each sample is only as exact as the largest ones."""
    assert len(got) == len(want)
    largest = max(map(abs, want), default=0.0)
    for i, (a, b) in enumerate(zip(got, want)):
        assert abs(a - b) <= rel * (abs(b) + largest) + 1e-300, (i, a, b)


@pytest.mark.parametrize("dataset, loss, activation", list(combinations()))
def test_one_step_equals_the_engine_on_every_dataset_loss_and_activation(
        use_numpy, dataset, loss, activation):
    config = small_config(dataset, loss=loss, activation=activation)
    if dataset == "digits":
        pytest.importorskip("sklearn")
    reference = Trainer(config, make_step=lambda model, name: engine_step(model, name))
    with numpy_hidden(not use_numpy):
        trainer = Trainer(config)
    X, y = reference.X[:17], reference.y[:17]  # a mini-batch of an odd size
    ref_loss, ref_outputs = reference._step(X, y)
    ref_grads = [p.grad for p in reference.model.parameters()]
    loss_value, outputs = trainer._step(X, y)
    assert abs(loss_value - ref_loss) <= 1e-12 * abs(ref_loss)
    assert_vectors_close([p.grad for p in trainer.model.parameters()], ref_grads)
    assert_rows_close([list(row) for row in outputs], ref_outputs)
    # every sample's outputs, so accuracy and pictures see what the engine saw
    assert len(outputs) == 17 and len(outputs[0]) == len(ref_outputs[0])


@pytest.mark.parametrize("dataset, changes", [
    ("xor", dict(batch_size=7)),                                    # mini-batches, tanh
    ("moons", dict()),                                              # full batch, sigmoid
    ("circles", dict(loss="mse", activation="relu", batch_size=5)),
    ("sine", dict(batch_size=10)),                                  # regression
    ("digits", dict(batch_size=10)),                                # ce, the default
])
def test_a_training_run_equals_the_engine_weight_by_weight(use_numpy, dataset, changes):
    if dataset == "digits":
        pytest.importorskip("sklearn")
    config = small_config(dataset, **changes)
    reference = Trainer(config, make_step=engine_step)
    with numpy_hidden(not use_numpy):
        trainer = Trainer(config)
    for _ in range(12):
        want, got = reference.step(), trainer.step()
        assert (got.epoch, got.batch, got.accuracy) == (want.epoch, want.batch, want.accuracy)
        assert abs(got.loss - want.loss) <= 1e-11 * abs(want.loss)
        assert_vectors_close([p.data for p in trainer.model.parameters()],
                             [p.data for p in reference.model.parameters()], rel=1e-11)
    assert trainer.accuracies == reference.accuracies
    loss, accuracy = trainer.evaluate()
    ref_loss, ref_accuracy = reference.evaluate()
    assert abs(loss - ref_loss) <= 1e-11 * abs(ref_loss) and accuracy == ref_accuracy


def test_the_steps_loss_is_nn_losses_own():
    """The one-sample forms in LOSSES are nn.losses' formulas: a batch through the engine
    with each form, summed and averaged, equals the nn.losses loss of the whole batch."""
    from autograd_core import value_sum
    rng = random.Random(0)
    for name, nout in (("bce", 1), ("mse", 1), ("ce", 5)):
        outs = [[Value(rng.uniform(-30, 30)) for _ in range(nout)] for _ in range(9)]
        labels = [float(rng.randrange(max(nout, 2))) for _ in outs]
        want = LOSSES[name].function(outs, labels).data
        terms = []
        for out, label in zip(outs, labels):
            if name == "ce":
                targets = [Value(float(label == c)) for c in range(nout)]
                targets.append(Value(max(o.data for o in out)))
            else:
                targets = [Value(label)]
            terms.append(LOSSES[name].one_sample(out, targets))
        got = (value_sum(terms) / len(terms)).data
        assert abs(got - want) <= 1e-13 * abs(want)


def test_no_numpy_the_scalar_loop_and_big_logits_are_finite():
    """Cross-entropy shifts by the largest logit, as the engine does: logits of +-800
    (exp overflows beyond 709) give finite numbers, with and without numpy."""
    model = MLP(2, [3], activation="linear", output_activation="linear", seed=0)
    for p in model.parameters():
        p.data *= 400
    X, y = [[1.0, -1.0], [2.0, 0.5]], [0.0, 2.0]
    want = engine_step(model, "ce")(X, y)[0]
    ref = [p.grad for p in model.parameters()]
    for hide in (False, True):
        with numpy_hidden(hide):
            step = batch_step(model, "ce")
        loss, _ = step(X, y)
        assert math.isfinite(loss) and abs(loss - want) <= 1e-12 * abs(want)
        assert_vectors_close([p.grad for p in model.parameters()], ref)
