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
