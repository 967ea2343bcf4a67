"""`chainrule train` and nn's training modules: results, files, determinism, errors.

Only `test_defaults_reach_95_percent_on_moons` trains for long (the real default run,
a few seconds to ~15 s); everything else trains tiny networks for a few epochs.
"""

import contextlib
import io
import json
import math
from importlib.metadata import version

import pytest

from nn import run_folder
from nn.evaluation import evaluate
from nn.step_functions import engine_step
from nn.trainer import train
from nn.training_config import TrainConfig, default_lr
from chainrule.cli import main
from nn import MLP
from nn.datasets import load_dataset
from tests.helpers import run_cli

QUICK = ["--samples", "40", "--epochs", "15", "--hidden", "4"]


run_main = run_cli


def train_cli(tmp_path, *args, name="run"):
    out = tmp_path / name
    status, stdout, stderr = run_main(["train", *args, "--out", str(out)])
    assert status == 0, stderr
    return out, stdout, stderr


def read_metrics(out):
    return json.loads((out / "metrics.json").read_text())


# ---------------------------------------------------------------- the budget test
def test_defaults_reach_95_percent_on_moons(tmp_path):
    out, stdout, _ = train_cli(tmp_path, "moons")
    metrics = read_metrics(out)
    assert metrics["architecture"] == {"sizes": [2, 8, 8, 1],
                                       "activations": ["sigmoid", "sigmoid", "linear"]}
    assert metrics["args"]["batch_size"] is None  # full batch by default
    assert metrics["accuracy"] >= 0.95
    assert "accuracy" in stdout
    # the saved model really is that good
    model = MLP.load(out / "model.json")
    X, y = load_dataset("moons", seed=0)
    right = sum((model(x).data > 0) == (t == 1.0) for x, t in zip(X, y))
    assert right / len(y) == metrics["accuracy"]


# ----------------------------------------------------------------- determinism
@pytest.mark.parametrize("extra", [[], ["--batch-size", "7", "--activation", "tanh"],
                                   ["--loss", "mse", "--activation", "relu"]])
def test_same_seed_same_model_and_metrics_bit_for_bit(tmp_path, extra):
    a, _, _ = train_cli(tmp_path, "xor", *QUICK, "--seed", "3", *extra, name="a")
    b, _, _ = train_cli(tmp_path, "xor", *QUICK, "--seed", "3", *extra, name="b")
    assert (a / "model.json").read_bytes() == (b / "model.json").read_bytes()
    ma, mb = read_metrics(a), read_metrics(b)
    assert ma.pop("wall_time_seconds") >= 0 and mb.pop("wall_time_seconds") >= 0
    assert ma == mb
    c, _, _ = train_cli(tmp_path, "xor", *QUICK, "--seed", "4", *extra, name="c")
    assert (a / "model.json").read_bytes() != (c / "model.json").read_bytes()


# ---------------------------------------------------------------------- files
def test_files_written_and_metrics_content(tmp_path):
    out, stdout, stderr = train_cli(tmp_path, "moons", *QUICK, "--lr", "0.7")
    assert sorted(p.name for p in out.iterdir()) == \
        ["boundary.png", "loss.png", "metrics.json", "model.json"]  # no temp files left
    for picture in ("loss.png", "boundary.png"):
        assert (out / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    m = read_metrics(out)
    assert m["dataset"] == "moons" and m["task"] == "classification"
    assert m["args"] == {"dataset": "moons", "hidden": [4], "activation": "sigmoid",
                         "loss": "bce", "lr": 0.7, "epochs": 15, "batch_size": None,
                         "seed": 0, "samples": 40, "noise": 0.3}
    assert m["epochs"] == 15 and len(m["loss_history"]) == 15
    assert m["seed"] == 0
    assert m["chainrule_version"] == version("chainrule")
    assert 0.0 <= m["accuracy"] <= 1.0 and math.isfinite(m["final_loss"])
    assert 0 <= m["wall_time_seconds"] < 600
    # the final loss is the saved model's loss on the whole dataset
    model = MLP.load(out / "model.json")
    X, y = load_dataset("moons", n=40, seed=0)
    loss, accuracy = evaluate(model, X, y, "bce", "classification")
    assert loss == m["final_loss"] and accuracy == m["accuracy"]
    # quiet when not at a terminal: no progress bar, one summary on stdout
    assert stderr == ""
    assert stdout.startswith("moons: training accuracy ") and str(out / "model.json") in stdout


def test_regression_writes_a_fit_instead_of_a_boundary(tmp_path):
    out, stdout, _ = train_cli(tmp_path, "sine", "--samples", "20", "--epochs", "5")
    assert sorted(p.name for p in out.iterdir()) == \
        ["fit.png", "loss.png", "metrics.json", "model.json"]
    m = read_metrics(out)
    assert m["task"] == "regression" and m["accuracy"] is None
    assert m["args"]["loss"] == "mse" and m["args"]["lr"] == default_lr(
        "sigmoid", "regression")
    assert m["architecture"]["activations"][-1] == "linear"
    assert "accuracy" not in stdout


def test_mse_classification_uses_a_sigmoid_output(tmp_path):
    out, _, _ = train_cli(tmp_path, "circles", *QUICK, "--loss", "mse")
    # hidden units: circles' default (tanh); the output: a probability for mse
    assert read_metrics(out)["architecture"]["activations"] == ["tanh", "sigmoid"]


def test_progress_bar_at_a_terminal(tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out, err = Terminal(), Terminal()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["train", "xor", *QUICK, "--out", str(tmp_path / "r")])
    assert status == 0
    bar = err.getvalue()
    assert "15/15" in bar and "loss=" in bar and "acc=" in bar


# ------------------------------------------------------------------ the loop
def test_mini_batches_average_and_the_step_can_be_swapped():
    config = TrainConfig(dataset="xor", hidden=(3,), epochs=2, batch_size=15,
                                  samples=40, lr=0.5)
    batches = []

    def recording_step(model, loss_name):
        step = engine_step(model, loss_name)

        def wrapped(X, y):
            batches.append(len(X))
            loss, outs = step(X, y)
            # the loss is a mean, so the gradient is the batch average: check one
            p = model.parameters()[0]
            h = 1e-6
            p.data += h
            up = evaluate(model, X, y, loss_name, "classification")[0]
            p.data -= 2 * h
            down = evaluate(model, X, y, loss_name, "classification")[0]
            p.data += h
            assert abs(p.grad - (up - down) / (2 * h)) < 1e-6
            return loss, outs
        return wrapped

    result = train(config, make_step=recording_step)
    assert batches == [15, 15, 10] * 2
    assert len(result.losses) == 2


def test_full_batch_is_plain_gradient_descent():
    """One epoch = one step: w <- w - lr * dC/dw over all examples."""
    config = TrainConfig(dataset="moons", hidden=(3,), epochs=1, samples=12, lr=0.9)
    result = train(config)
    model = MLP(2, [3, 1], output_activation="linear", seed=0)  # the same start
    X, y = load_dataset("moons", n=12, seed=0)
    engine_step(model, "bce")(X, y)
    for p in model.parameters():
        p.data -= 0.9 * p.grad
    # the default step is the batch compile: the engine's numbers to rounding
    want = [p.data for p in model.parameters()]
    assert [p.data for p in result.model.parameters()] == \
        pytest.approx(want, rel=1e-12, abs=1e-12 * max(map(abs, want)))


# ------------------------------------------------------------------- errors
@pytest.mark.parametrize("args, message", [
    (["mnist"], "unknown dataset 'mnist'; use one of: xor, moons, circles, spiral, sine"),
    (["moons", "--hidden", "8,x"], "'8,x' is not a list of layer sizes"),
    (["moons", "--hidden", "8,0"], "'8,0' is not a list of layer sizes"),
    (["moons", "--lr", "0"], "--lr: must be a positive number, got 0"),
    (["moons", "--lr", "-0.1"], "--lr: must be a positive number"),
    (["moons", "--lr", "fast"], "--lr: 'fast' is not a number"),
    (["moons", "--lr", "inf"], "--lr: 'inf' is not a finite number"),
    (["moons", "--epochs", "0"], "--epochs: must be at least 1, got 0"),
    (["moons", "--epochs", "2.5"], "--epochs: '2.5' is not a whole number"),
    (["moons", "--batch-size", "0"], "--batch-size: must be at least 1, got 0"),
    (["moons", "--activation", "softmax"], "unknown activation 'softmax'"),
    (["moons", "--loss", "hinge"], "unknown loss 'hinge'"),
    (["moons", "--noise", "-1"], "--noise: must be 0 or more"),
    (["moons", "--samples", "1"], "moons needs at least 2 samples, got 1"),
    (["sine", "--loss", "bce"], "--loss bce does not fit sine, a regression dataset; use --loss mse"),
    (["digits", "--loss", "bce"], "--loss bce does not fit digits, a dataset of 10 classes; use --loss ce"),
    ([], "required: DATASET"),
])
def test_bad_arguments_one_line_exit_2(tmp_path, args, message):
    status, stdout, stderr = run_main(["train", *args, "--out", str(tmp_path / "r")])
    assert status == 2
    assert stderr.startswith("chainrule: error: ") and message in stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_unwritable_out_fails_before_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    status, _, stderr = run_main(["train", "moons", "--out", str(blocker / "run")])
    assert status == 2
    assert stderr.startswith(f"chainrule: error: cannot write to --out {blocker / 'run'}")
    assert stderr.count("\n") == 1


def test_divergence_is_reported_not_a_traceback(tmp_path):
    status, _, stderr = run_main(["train", "sine", "--lr", "1e6", "--activation", "relu",
                                  "--samples", "10", "--epochs", "50",
                                  "--out", str(tmp_path / "r")])
    assert status == 2
    assert stderr.startswith("chainrule: error: training diverged") and \
        "try a smaller --lr" in stderr
    assert not (tmp_path / "r").exists()


def test_a_failed_write_is_reported(tmp_path, monkeypatch):
    def broken(result, out, also=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(run_folder, "write_run", broken)
    status, _, stderr = run_main(["train", "xor", *QUICK, "--out", str(tmp_path / "r")])
    assert status == 2 and "could not write the results" in stderr
    assert "No space left on device" in stderr


def test_config_errors_from_python():
    with pytest.raises(ValueError, match="epochs must be an int >= 1"):
        train(TrainConfig(epochs=0))
    with pytest.raises(ValueError, match="unknown dataset"):
        train(TrainConfig(dataset="iris"))


def test_the_command_asks_glibc_to_keep_freed_memory_itself(tmp_path, monkeypatch):
    """The allocator setting is the training program's call (nn/c_allocator.py), made
    once before training, not a side effect of the library."""
    import nn.c_allocator
    calls = []
    monkeypatch.setattr(nn.c_allocator, "keep_freed_memory", lambda: calls.append(True))
    train_cli(tmp_path, "xor", *QUICK)
    assert calls == [True]
