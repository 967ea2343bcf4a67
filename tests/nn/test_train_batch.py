"""Training through the batch compile: nn.step_functions.batch_predictor (the network over
many points at once) and nn.step_functions.batch_step (the Trainer's default step),
against the eager engine: the engine's forward pass point by point, and engine_step
(forward and backward() over the same batch, the loss from nn.losses).

Every comparison runs with numpy (array form) and with numpy hidden (the per-sample
compiled code), as the batch compile does."""

import math
import random
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_core import Value
from nn import MLP
from nn.evaluation import predict
from nn.loss_table import LOSSES
from nn.step_functions import batch_predictor, batch_step, engine_step
from tests.engine.test_batch_compile import numpy_hidden

np = pytest.importorskip("numpy")

SETTINGS = dict(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


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
from nn.trainer import Trainer  # noqa: E402
from nn.training_config import HIDDEN_ACTIVATIONS, TrainConfig  # noqa: E402


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


# ------------------------------------------------------------------------ memory
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402

from nn.memory_estimate import check_memory, estimate_memory  # noqa: E402
from nn.training_config import TooLargeError  # noqa: E402

_MEASURE = """
import sys
import numpy


def peak_bytes():  # VmHWM: this process's own peak (ru_maxrss carries the parent's over exec)
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024

from nn.memory_estimate import estimate_memory
from nn.trainer import Trainer
from nn.training_config import TrainConfig
dataset, hidden, samples, batch = sys.argv[1:]
config = TrainConfig(dataset=dataset, hidden=tuple(map(int, hidden.split(","))),
                     samples=int(samples),
                     batch_size=None if batch == "full" else int(batch)).resolved()
base = peak_bytes()
trainer = Trainer(config)
trainer.step(); trainer.step(); trainer.evaluate()
peak = peak_bytes()
print(peak - base, estimate_memory(config))
"""


@pytest.mark.parametrize("args", [("moons", "300,300", "5000", "full"),
                                  ("moons", "8,8", "200000", "full"),
                                  ("spiral", "64,64", "100000", "1000")])
def test_the_batch_estimate_covers_the_measured_peak(args):
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs Linux's /proc to read a process's peak memory")
    """Peak RSS of building the Trainer, two steps and an evaluation (a fresh process):
    the estimate covers it and is not wildly above it (measured: 141/237, 166/204 and
    47/49 MB)."""
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    measured, estimate = map(int, proc.stdout.split())
    assert measured <= estimate <= 3 * measured + (20 << 20), (measured, estimate)


def test_what_the_engine_could_not_fit_the_batch_compile_can():
    """A batch compile's memory is arrays of batch x width and one sample's graph, not a
    graph per example: 1000,1000 hidden units on 200 points needed ~13 GB eagerly."""
    config = TrainConfig(dataset="moons", hidden=(1000, 1000)).resolved()
    check_memory(config, available=4 << 30)  # fits
    with pytest.raises(TooLargeError):
        check_memory(config, available=4 << 30, engine="eager")
    assert estimate_memory(TrainConfig(dataset="moons", samples=10000).resolved()) < 50 << 20


def test_what_cannot_fit_in_a_batch_compile_is_refused_with_advice_that_fits():
    config = TrainConfig(dataset="moons", hidden=(3000, 3000)).resolved()
    budget = 2 << 30
    with pytest.raises(TooLargeError, match=r"what fits: --hidden \d+,\d+$") as caught:
        check_memory(config, available=budget)
    width = int(str(caught.value).split("--hidden ")[1].split(",")[0])
    check_memory(TrainConfig(dataset="moons", hidden=(width, width)).resolved(),
                 available=budget)
    with pytest.raises(ValueError, match="unknown engine 'torch'; use one of: batch, eager"):
        estimate_memory(config, "torch")


# ---------------------------------------------------------- threads and --engine
_THREADS = """
import sys
from nn.blas_threads import set_blas_threads
how = set_blas_threads(int(sys.argv[1]))
import numpy
numpy.ones((50, 50)) @ numpy.ones((50, 50))
from threadpoolctl import threadpool_info
print(how, sorted({pool["num_threads"] for pool in threadpool_info()
                   if pool["user_api"] == "blas"}))
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_the_blas_thread_count_is_set_before_numpy_loads(threads):
    pytest.importorskip("threadpoolctl")
    if threads > (os.cpu_count() or 1):
        pytest.skip("OpenBLAS uses at most one thread per core")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    proc = subprocess.run([sys.executable, "-c", _THREADS, str(threads)], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split(" ", 1) == ["environment", f"[{threads}]\n"]


_CLI_THREADS = """
import sys
from chainrule.cli import main
status = main(sys.argv[1:])
from threadpoolctl import threadpool_info
print(status, sorted({pool["num_threads"] for pool in threadpool_info()
                      if pool["user_api"] == "blas"}))
"""


def test_chainrule_train_runs_on_one_blas_thread_unless_asked(tmp_path):
    pytest.importorskip("threadpoolctl")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2")
    small = ["train", "xor", "--samples", "20", "--epochs", "2"]
    asked = [([], 1)] + ([(["--threads", "2"], 2)] if (os.cpu_count() or 1) >= 2 else [])
    for extra, want in asked:
        proc = subprocess.run([sys.executable, "-c", _CLI_THREADS, *small, *extra, "--out",
                               str(tmp_path / f"run{want}")], capture_output=True, text=True,
                              timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.splitlines()[-1] == f"0 [{want}]"


def test_engine_eager_trains_the_same_model(tmp_path):
    from tests.helpers import run_cli
    small = ["train", "circles", "--samples", "30", "--epochs", "20", "--batch-size", "7"]
    weights = {}
    for engine in ("batch", "eager"):
        status, _, stderr = run_cli([*small, "--engine", engine, "--out",
                                     str(tmp_path / engine)])
        assert status == 0, stderr
        model = json.loads((tmp_path / engine / "model.json").read_text())
        weights[engine] = [w for layer in model["layers"] for row in layer["weights"]
                           for w in row] + [b for layer in model["layers"]
                                            for b in layer["biases"]]
    assert_vectors_close(weights["batch"], weights["eager"], rel=1e-10)
    status, _, stderr = run_cli([*small, "--engine", "torch", "--out", str(tmp_path / "x")])
    assert status == 2 and "unknown engine 'torch'; use one of: batch, eager" in stderr
