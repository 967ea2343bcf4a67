"""Judging a model: its predictions for points, and its loss and accuracy on a data set."""

from __future__ import annotations

import sys
import weakref

from .loss_table import LOSSES
from .step_functions import BatchLoss, batch_predictor

__all__ = ["predict", "evaluate", "EVALUATION_CHUNK", "count_correct"]


def predict(model, points, loss_name):
    """The model's outputs for each point, as a list of floats per point, without a
    graph. For classification they are probabilities: P(class 1) for bce (sigmoid of
    the logit) and mse, one per class for ce (softmax). (batch_predictor keeps the
    compiled network for many calls.)"""
    if not len(points):
        return []
    try:
        cached = _PREDICTORS.setdefault(model, {})
    except TypeError:  # a model that cannot be weakly referenced: compile anew
        cached = {}
    if loss_name not in cached:
        cached[loss_name] = batch_predictor(model, loss_name)
    return cached[loss_name](points)


# predict()'s compiled predictors, kept while their model lives: the pictures of a run
# call predict several times, and a wide network's compile costs seconds and memory.
_PREDICTORS = weakref.WeakKeyDictionary()


def _classes(outputs, loss):
    """The predicted class of each example's outputs (floats), as `loss` (a row) reads them."""
    if loss.class_index:
        return [max(range(len(out)), key=out.__getitem__) for out in outputs]
    return [int(out[0] > loss.threshold) for out in outputs]


def count_correct(outputs, y, loss_name):
    """How many examples' outputs (N lists, or an N x k numpy array) predict their label."""
    loss = LOSSES[loss_name]
    np = sys.modules.get("numpy")
    if np is not None and isinstance(outputs, np.ndarray):
        if loss.class_index:
            predicted = outputs.argmax(axis=1)  # the first of equal ones, as max() takes
        else:
            predicted = outputs[:, 0] > loss.threshold
        return int((predicted == np.asarray(y).astype(int)).sum())
    predicted = _classes(outputs, loss)
    return sum(p == int(t) for p, t in zip(predicted, y))


# Evaluation runs the batch compile over this many examples at a time: its arrays are
# examples x layer width, and a whole large dataset at once would be the run's peak.
EVALUATION_CHUNK = 4096


def evaluate(model, X, y, loss_name, task, compiled=None):
    """(loss, accuracy) of the model on all of X, y; accuracy is None for regression.

    The batch compile of the model's loss (compiled: one made before, to reuse), over
    chunks of EVALUATION_CHUNK examples; the loss is their mean."""
    compiled = BatchLoss(model, loss_name) if compiled is None else compiled
    total, correct = 0.0, 0
    for start in range(0, len(X), EVALUATION_CHUNK):
        bx, by = X[start:start + EVALUATION_CHUNK], y[start:start + EVALUATION_CHUNK]
        loss, _, outputs = compiled(bx, by)
        total += loss * len(by)
        if task == "classification":
            correct += count_correct(outputs, by, loss_name)
    return total / len(X), (correct / len(X) if task == "classification" else None)

