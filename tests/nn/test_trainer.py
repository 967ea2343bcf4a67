"""nn.trainer.Trainer: the training loop one step at a time (what the playground drives),
equal to train() and to plain gradient descent done by hand."""

import json
import math

import pytest

from nn import MLP, SGD
from nn.datasets import load_dataset
from nn.loss_table import LOSSES
from nn.memory_estimate import check_memory, estimate_memory
from nn.step_functions import engine_step
from nn.trainer import Trainer, train
from nn.training_config import TooLargeError, TrainConfig


def test_step_by_step_equals_train_bit_for_bit():
    config = TrainConfig(dataset="xor", hidden=(3,), epochs=3, batch_size=15, samples=40)
    trainer = Trainer(config)
    reports = [trainer.step() for _ in range(9)]
    assert [(r.epoch, r.batch, r.batches) for r in reports] == \
        [(e, b, 3) for e in (1, 2, 3) for b in (1, 2, 3)]
    assert [r.epoch_finished for r in reports] == [False, False, True] * 3
    assert trainer.epoch == 3 and trainer.steps == 9
    result = train(config)
    assert [p.data for p in trainer.model.parameters()] == \
        [p.data for p in result.model.parameters()]
    assert trainer.losses == result.losses and trainer.accuracies == result.accuracies


def test_one_full_batch_step_is_one_gradient_descent_update_by_hand():
    config = TrainConfig(dataset="moons", hidden=(3,), samples=12, lr=0.9)
    trainer = Trainer(config)
    report = trainer.step()
    assert report.epoch_finished and report.batches == 1
    model = MLP(2, [3, 1], output_activation="linear", seed=0)
    X, y = load_dataset("moons", n=12, seed=0)
    loss, _ = engine_step(model, "bce")(X, y)
    SGD(model.parameters(), 0.9).step()
    # the default step is the batch compile: the engine's numbers to rounding
    want = [p.data for p in model.parameters()]
    assert [p.data for p in trainer.model.parameters()] == \
        pytest.approx(want, rel=1e-12, abs=1e-12 * max(map(abs, want)))
    assert report.loss == pytest.approx(loss, rel=1e-12)
    assert trainer.losses == [report.loss]


def test_state_is_json_and_holds_the_weights():
    trainer = Trainer(TrainConfig(dataset="moons", hidden=(4,), samples=30, batch_size=10))
    trainer.step()
    state = json.loads(json.dumps(trainer.state(), allow_nan=False))
    assert state["epoch"] == 0 and state["steps"] == 1 and state["batch_in_epoch"] == 1
    assert state["batches_per_epoch"] == 3
    assert state["model"]["layers"][0]["weights"][0] == \
        [w.data for w in trainer.model.layers[0].neurons[0].w]
    assert state["config"]["hidden"] == [4] and state["config"]["lr"] == 1.5


def test_predict_gives_probabilities_and_evaluate_agrees_with_the_accuracy():
    trainer = Trainer(TrainConfig(dataset="moons", hidden=(4,), samples=40))
    for _ in range(20):
        trainer.step()
    probabilities = trainer.predict(trainer.X)
    assert all(len(p) == 1 and 0.0 < p[0] < 1.0 for p in probabilities)
    right = sum((p[0] > 0.5) == (t == 1.0) for p, t in zip(probabilities, trainer.y))
    assert trainer.evaluate()[1] == right / len(trainer.y)


def test_ctrl_c_inside_a_step_leaves_the_model_at_the_last_complete_step(monkeypatch):
    trainer = Trainer(TrainConfig(dataset="xor", hidden=(3,), samples=20, batch_size=10))
    trainer.step()
    before = [p.data for p in trainer.model.parameters()]
    real = trainer._step

    def interrupted(X, y):
        real(X, y)  # the gradient is computed, then Ctrl-C arrives before the update
        raise KeyboardInterrupt

    trainer._step = interrupted
    with pytest.raises(KeyboardInterrupt):
        trainer.step()
    assert [p.data for p in trainer.model.parameters()] == before and trainer.steps == 1


def test_defaults_come_from_the_dataset_table():
    from nn.datasets import DATASETS
    for name, row in DATASETS.items():
        config = TrainConfig(dataset=name).resolved()
        assert config.hidden == row.hidden and config.activation == row.activation
        assert config.lr == row.lr and config.epochs == row.epochs
        assert config.batch_size == row.batch_size
    assert TrainConfig(dataset="moons", activation="tanh").resolved().lr == 0.3
    assert TrainConfig(dataset="digits").resolved().loss == "ce"
    assert set(LOSSES) == {"bce", "mse", "ce"}


@pytest.mark.parametrize("field, value, message", [
    ("epochs", 0, "epochs must be an int >= 1, got 0"),
    ("epochs", 10 ** 400, None),  # fine: huge epochs are allowed
    ("batch_size", True, "batch_size must be an int >= 1, got True"),
    ("hidden", (4, 0), r"hidden layer sizes must be ints >= 1, got \(4, 0\)"),
    ("lr", math.nan, "lr must be a positive finite number, got nan"),
    ("samples", 10 ** 400, None),
    ("samples", 1, "moons needs at least 2 samples, got 1"),
    ("activation", "linear", "unknown activation 'linear'; use one of: sigmoid, tanh, relu"),
    ("seed", "7", "seed must be an int, got '7'"),
])
def test_configuration_errors(field, value, message):
    config = TrainConfig(dataset="moons", **{field: value})
    if message is None:
        config.resolved()
        return
    with pytest.raises(ValueError, match=message):
        config.resolved()


def test_memory_estimate_grows_with_the_graph_and_refuses_what_cannot_fit():
    small = TrainConfig(dataset="moons").resolved()
    wide = TrainConfig(dataset="moons", hidden=(1000,), batch_size=20).resolved()
    assert estimate_memory(small) < 2e9 and estimate_memory(wide) > estimate_memory(
        TrainConfig(dataset="moons", hidden=(100,), batch_size=20).resolved())
    check_memory(small, available=4 << 30)
    with pytest.raises(TooLargeError, match="would need about .* but 1 GB is available"):
        check_memory(TrainConfig(dataset="moons", hidden=(99999999999,)).resolved(),
                     available=10 ** 9)
    huge = TrainConfig(dataset="moons", samples=10 ** 400).resolved()
    with pytest.raises(TooLargeError, match=r"e\+\d+ TB"):  # never a 400-digit number
        check_memory(huge, available=10 ** 9)


@pytest.mark.parametrize("batch_size", [15, None])  # mini-batches (shuffled), full batch
@pytest.mark.parametrize("done", [0, 1, 2, 3, 4, 7])
def test_a_resumed_trainer_takes_the_same_next_steps_weight_by_weight(batch_size, done):
    """resume_at(N) on a new Trainer with the weights of one that took N steps: from
    there the two take the same batches and reach the same weights, bit for bit."""
    from nn.serialize import model_from_dict, model_to_dict
    config = TrainConfig(dataset="xor", hidden=(3,), samples=40, batch_size=batch_size)
    going = Trainer(config)
    for _ in range(done):
        going.step()
    resumed = Trainer(config)
    saved = model_from_dict(json.loads(json.dumps(model_to_dict(going.model))))
    for p, q in zip(resumed.model.parameters(), saved.parameters()):
        p.data = q.data
    resumed.resume_at(done)
    assert (resumed.steps, resumed.epoch) == (going.steps, going.epoch)
    for _ in range(7):  # across the end of an epoch and a reshuffle
        want, got = going.step(), resumed.step()
        assert (got.epoch, got.batch, got.epoch_finished, got.loss) == \
            (want.epoch, want.batch, want.epoch_finished, want.loss)
        assert [p.data for p in resumed.model.parameters()] == \
            [p.data for p in going.model.parameters()]


def test_resume_at_refuses_what_is_not_a_step_count():
    trainer = Trainer(TrainConfig(dataset="xor", hidden=(3,), samples=20))
    for steps in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="steps must be an int >= 0"):
            trainer.resume_at(steps)
