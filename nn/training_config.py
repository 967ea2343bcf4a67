"""How a training run is configured: TrainConfig, its defaults and its checks.

Every default (layer sizes, activation, learning rate, epochs, batch size, sample count,
noise, loss) comes from the dataset's row in `nn.datasets.DATASETS`; the losses are the
table `nn.loss_table.LOSSES`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional

from .datasets import DATASETS
from .loss_table import LOSSES
from .model_kinds import ACTIVATIONS

__all__ = ["TrainConfig", "TooLargeError", "default_lr", "HIDDEN_ACTIVATIONS",
           "LR_BY_ACTIVATION", "config_dict", "is_int", "shown_number"]

# The hidden units a network may have (the output's is chosen by the loss).
HIDDEN_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name != "linear")

# Learning rates for the hidden activations no full-batch dataset row of the task
# chooses, found by trying (full batch, 300 epochs): relu units have larger derivatives
# than sigmoid ones and need smaller steps; regression's linear output + mse passes
# 2 (z - t) back unsquashed, so it needs steps about ten times smaller still. An
# activation a row chooses takes that row's rate (moons's for sigmoid, xor's for tanh,
# sine's for regression with sigmoid): each rate is stated once.
_UNCHOSEN_LR = {
    "classification": {"relu": 0.2},
    "regression": {"tanh": 0.03, "relu": 0.02},
}


def _lr_for(task, activation):
    """The rate of the first full-batch row of `task` whose hidden units are
    `activation` (mini-batches take other steps), else _UNCHOSEN_LR's."""
    for row in DATASETS.values():
        if row.task == task and row.activation == activation and row.batch_size is None:
            return row.lr
    return _UNCHOSEN_LR[task][activation]


# The learning rate of each hidden activation other than the dataset's own, by task
# (`chainrule train --help` lists them).
LR_BY_ACTIVATION = {task: {activation: _lr_for(task, activation)
                           for activation in HIDDEN_ACTIVATIONS}
                    for task in ("classification", "regression")}


def default_lr(activation, task="classification", dataset=None):
    """The learning rate used when none is given."""
    if dataset is not None and DATASETS[dataset].activation == activation:
        return DATASETS[dataset].lr
    return LR_BY_ACTIVATION[task][activation]


class TooLargeError(ValueError):
    """A configuration whose memory would not fit on this machine."""


def is_int(value):
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def shown_number(value):
    """A number as a message shows it: never a 300-digit line."""
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:10]}...({len(text)} digits)"


@dataclass
class TrainConfig:
    dataset: str = "moons"
    hidden: Optional[tuple] = None      # None: the dataset's default
    activation: Optional[str] = None    # None: the dataset's default
    loss: Optional[str] = None          # None: the dataset's default
    lr: Optional[float] = None          # None: default_lr(activation, task, dataset)
    epochs: Optional[int] = None        # None: the dataset's default
    batch_size: Optional[int] = None    # None: the dataset's default (mostly full batch)
    seed: int = 0
    samples: Optional[int] = None       # None: the dataset's default
    noise: Optional[float] = None       # None: the dataset's default

    def resolved(self):
        """A copy with every None default filled in and everything checked."""
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; "
                             f"use one of: {', '.join(DATASETS)}")
        data = DATASETS[self.dataset]
        task = data.task
        loss = self.loss or data.loss
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; use one of: {', '.join(LOSSES)}")
        if data.classes not in LOSSES[loss].classes:
            serves = [name for name, spec in LOSSES.items() if data.classes in spec.classes]
            kind = "a regression dataset" if data.classes == 0 else \
                f"a dataset of {data.classes} classes"
            raise ValueError(f"--loss {loss} does not fit {self.dataset}, {kind}; "
                             f"use --loss {' or '.join(serves)}")
        for name, value, allow_none in (("epochs", self.epochs, True),
                                        ("batch_size", self.batch_size, True),
                                        ("seed", self.seed, False)):
            if not (allow_none and value is None) and (
                    not is_int(value) or (name != "seed" and value < 1)):
                raise ValueError(f"{name} must be an int" + (" >= 1" if name != "seed" else "")
                                 + f", got {shown_number(value)}")
        hidden = data.hidden if self.hidden is None else tuple(self.hidden)
        if not all(is_int(n) and n >= 1 for n in hidden):
            raise ValueError(f"hidden layer sizes must be ints >= 1, got {hidden!r}")
        activation = data.activation if self.activation is None else self.activation
        if activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; "
                             f"use one of: {', '.join(HIDDEN_ACTIVATIONS)}")
        lr = default_lr(activation, task, self.dataset) if self.lr is None else self.lr
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or \
                not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a positive finite number, got {lr!r}")
        samples = data.samples if self.samples is None else self.samples
        least = data.classes if task == "classification" else 1  # a point of each class
        if not is_int(samples) or samples < least:
            raise ValueError(f"{self.dataset} needs at least {least} samples, "
                             f"got {shown_number(samples)}")
        noise = data.noise if self.noise is None else self.noise
        epochs = data.epochs if self.epochs is None else self.epochs
        batch = data.batch_size if self.batch_size is None else self.batch_size
        return TrainConfig(self.dataset, hidden, activation, loss, float(lr), epochs,
                           batch, self.seed, samples, noise)


def config_dict(config):
    """The JSON-ready form of a TrainConfig (metrics.json's "args", Trainer.state)."""
    return {**asdict(config), "hidden": list(config.hidden)}
