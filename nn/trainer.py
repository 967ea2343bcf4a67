"""The training loop, `Trainer`, taken apart so that a command line, a notebook or a web
server can drive it one gradient step at a time:

    trainer = Trainer(TrainConfig(dataset="moons"))
    report = trainer.step()          # one mini-batch (one epoch at full batch)
    loss, accuracy = trainer.run_epoch()
    trainer.model, trainer.epoch, trainer.losses, trainer.state()
    trainer.resume_at(steps)         # go on from a saved step with the same batch order

`train(config)` runs it to the end and returns a `TrainResult` (nn.run_folder.write_run
saves one). The step's calculus is a step function (nn.step_functions, batch_step by
default). Everything is seeded: the same `TrainConfig` gives the same model and metrics,
bit for bit (only the wall time differs).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Optional

from autograd_core.files import interrupts_held

from .datasets import DATASETS, load_dataset
from .evaluation import count_correct, evaluate, predict
from .layers import MLP
from .loss_table import LOSSES
from .memory_estimate import check_memory
from .optim import SGD
from .step_functions import BatchLoss, batch_step, engine_step
from .training_config import TrainConfig, config_dict, is_int, shown_number

__all__ = ["Trainer", "TrainResult", "StepReport", "build_model", "train"]


@dataclass
class TrainResult:
    config: TrainConfig              # resolved
    model: MLP
    X: list                          # the training examples
    y: list
    task: str                        # "classification" or "regression"
    losses: list = field(default_factory=list)      # per epoch, mean over its batches
    accuracies: list = field(default_factory=list)  # per epoch (classification only)
    final_loss: float = math.nan     # the trained model on the whole training set
    accuracy: Optional[float] = None  # idem; None for regression
    wall_time: float = 0.0           # seconds
    X_test: list = field(default_factory=list)  # held out (empty when the set has none)
    y_test: list = field(default_factory=list)
    test_loss: Optional[float] = None
    test_accuracy: Optional[float] = None
    epochs_completed: int = 0
    steps_completed: int = 0
    interrupted: bool = False        # stopped early by Ctrl-C

    @property
    def classes(self):
        return DATASETS[self.config.dataset].classes


@dataclass
class StepReport:
    """What one gradient step did."""
    epoch: int            # the epoch this step belongs to (1-based)
    batch: int            # its batch within the epoch (1-based)
    batches: int          # batches per epoch
    loss: float           # the batch's loss before the update
    accuracy: Optional[float]  # the batch's accuracy before the update (None: regression)
    epoch_finished: bool  # this was the epoch's last batch; losses/accuracies grew by one


class Trainer:
    """The training loop, one gradient step at a time.

    Attributes: `config` (resolved), `task`, `X`, `y` (training examples), `X_test`,
    `y_test` (held out; empty for the 2-D sets), `model`, `optimizer`, `epoch` (epochs
    completed), `steps` (gradient steps completed), `losses` and `accuracies` (one per
    completed epoch). A KeyboardInterrupt inside `step()` leaves the model as it was
    after the last complete step (the update itself is never interrupted halfway).
    """

    def __init__(self, config, make_step=None, check_fits=False):
        self.config = config.resolved()
        if check_fits:
            check_memory(self.config, engine="eager" if make_step is engine_step else "batch")
        data = DATASETS[self.config.dataset]
        self.task = data.task
        X, y = load_dataset(self.config.dataset, n=self.config.samples,
                            noise=self.config.noise, seed=self.config.seed)
        held = int(round(len(X) * data.test_fraction))
        self.X, self.y = X[:len(X) - held], y[:len(y) - held]
        self.X_test, self.y_test = X[len(X) - held:], y[len(y) - held:]
        self.model = build_model(self.config, len(X[0]))
        n = len(self.X)
        self.batch_size = n if self.config.batch_size is None else min(self.config.batch_size, n)
        self._step = (make_step or batch_step)(self.model, self.config.loss)
        self._arrays = None  # the data as numpy arrays, for a step that takes them
        if getattr(self._step, "takes_arrays", False):
            import numpy as np  # a step that takes arrays runs on numpy
            self._arrays = (np.asarray(self.X, dtype=np.float64),
                            np.asarray(self.y, dtype=np.float64))
        # the batch compile evaluate() uses: the step's own, or one made when first needed
        self._evaluator = getattr(self._step, "batch_loss", None)
        self.optimizer = SGD(self.model.parameters(), self.config.lr)
        self._order_rng = random.Random(self.config.seed)  # its own stream: batch order only
        self._order = list(range(n))
        self.epoch = 0
        self.steps = 0
        self.losses, self.accuracies = [], []
        self._position = 0          # the next batch's start within the epoch
        self._epoch_loss = 0.0
        self._epoch_correct = 0     # examples the epoch's outputs classified right
        self.wall_time = 0.0

    @property
    def batches_per_epoch(self):
        return -(-len(self.X) // self.batch_size)

    def step(self) -> StepReport:
        """One gradient step on the next mini-batch (the whole set at full batch)."""
        started = time.perf_counter()
        if self._position == 0 and self.batch_size < len(self.X):
            self._order_rng.shuffle(self._order)
        chosen = self._order[self._position:self._position + self.batch_size]
        if self._arrays is None:
            bx, by = [self.X[i] for i in chosen], [self.y[i] for i in chosen]
        elif len(chosen) == len(self.X):  # full batch: never shuffled, the arrays as they are
            bx, by = self._arrays
        else:
            bx, by = (array[chosen] for array in self._arrays)
        loss, outs = self._step(bx, by)
        correct = count_correct(outs, by, self.config.loss) if self.task == "classification" \
            else None
        with interrupts_held():  # the model is never left half-updated
            self.optimizer.step()
            self.steps += 1
            self._position += len(chosen)
            self._epoch_loss += loss * len(chosen)
            if correct is not None:
                self._epoch_correct += correct
            finished = self._position >= len(self.X)
            batch = -(-self._position // self.batch_size)
            if finished:
                self._finish_epoch()
        self.wall_time += time.perf_counter() - started
        accuracy = None if correct is None else correct / len(chosen)
        return StepReport(self.epoch if finished else self.epoch + 1, batch,
                          self.batches_per_epoch, loss, accuracy, finished)

    def _finish_epoch(self):
        # Loss and accuracy of the outputs seen during the epoch (before each update).
        self.losses.append(self._epoch_loss / len(self.X))
        if self.task == "classification":
            self.accuracies.append(self._epoch_correct / len(self.X))
        self.epoch += 1
        self._position = 0
        self._epoch_loss = 0.0
        self._epoch_correct = 0

    def resume_at(self, steps):
        """Go on as if `steps` gradient steps had been taken: the step count, the epoch,
        the position within it and the shuffled batch order (replayed from the seed
        exactly as step() draws it), so the next step takes the batch an uninterrupted
        run would take next, and from the same weights gives the same numbers, bit for
        bit. The weights and the optimiser's running state are the caller's to restore
        (a saved model file, `optimizer.load_state_dict`); the loss history restarts
        empty and the epoch in progress counts only the steps taken from here."""
        if not is_int(steps) or steps < 0:
            raise ValueError(f"steps must be an int >= 0, got {shown_number(steps)}")
        n = len(self.X)
        epochs, rest = divmod(steps, self.batches_per_epoch)
        self._order_rng = random.Random(self.config.seed)
        self._order = list(range(n))
        if self.batch_size < n:  # full batch is never shuffled
            for _ in range(epochs + (rest > 0)):
                self._order_rng.shuffle(self._order)
        self.steps, self.epoch = steps, epochs
        self._position = min(n, rest * self.batch_size)
        self.losses, self.accuracies = [], []
        self._epoch_loss, self._epoch_correct = 0.0, 0

    def run_epoch(self):
        """Steps until the current epoch is complete; (its loss, its accuracy)."""
        while True:
            report = self.step()
            if report.epoch_finished:
                return self.losses[-1], (self.accuracies[-1] if self.accuracies else None)

    def evaluate(self, X=None, y=None):
        """(loss, accuracy) of the current model on X, y (default: the training set)."""
        X = self.X if X is None else X
        y = self.y if y is None else y
        if self._evaluator is None:
            self._evaluator = BatchLoss(self.model, self.config.loss)
        return evaluate(self.model, X, y, self.config.loss, self.task, self._evaluator)

    def predict(self, points):
        """Probabilities (classification) or values (regression) per point; see predict."""
        return predict(self.model, points, self.config.loss)

    def state(self):
        """A JSON-ready snapshot: progress, history and the weights (model file format)."""
        from .serialize import model_to_dict
        return {"epoch": self.epoch, "steps": self.steps,
                "batch_in_epoch": -(-self._position // self.batch_size),
                "batches_per_epoch": self.batches_per_epoch,
                "losses": list(self.losses), "accuracies": list(self.accuracies),
                "config": config_dict(self.config), "model": model_to_dict(self.model)}

    def result(self, interrupted=False):
        """The TrainResult of the model as it is now (evaluated on all the data)."""
        result = TrainResult(self.config, self.model, self.X, self.y, self.task,
                             list(self.losses), list(self.accuracies),
                             X_test=self.X_test, y_test=self.y_test,
                             epochs_completed=self.epoch, steps_completed=self.steps,
                             interrupted=interrupted, wall_time=self.wall_time)
        result.final_loss, result.accuracy = self.evaluate()
        if self.X_test:
            result.test_loss, result.test_accuracy = self.evaluate(self.X_test, self.y_test)
        return result


def build_model(config, nin):
    data = DATASETS[config.dataset]
    output = LOSSES[config.loss].output_activation(data.task)
    return MLP(nin, list(config.hidden) + [data.outputs], activation=config.activation,
               output_activation=output, seed=config.seed)


def train(config, on_epoch=None, make_step=None):
    """Train as `config` says; on_epoch(epoch, loss, accuracy) is called after each epoch.

    make_step: batch_step (None: the default), engine_step or compiled_step.

    Raises ValueError for a bad config, and ArithmeticError (OverflowError, ...) when
    the training diverges.
    """
    trainer = Trainer(config, make_step=make_step)
    for _ in range(trainer.config.epochs):
        loss, accuracy = trainer.run_epoch()
        if on_epoch:
            on_epoch(trainer.epoch, loss, accuracy)
    return trainer.result()

