"""One browser tab's network: its settings, model, training steps and what the page draws.

Training is nn.trainer's Trainer, one step per request; the derivations (dC/dw = k/N sum
of o_i * delta_j, a neuron's delta equation) are nn.backprop's neuron_backward, compared
with the engine's batch gradient. This module keeps a tab's state between requests, checks
what the page asks for against LIMITS, and turns it all into JSON.
"""

from __future__ import annotations

import dataclasses
import math

from autograd_core import Value, paused_gc
from autograd_core.batch import compile_outputs
from nn import OPTIMIZERS, Neuron
from nn.backprop import activation_slope, neuron_backward
from nn.datasets import DATASETS
from nn.datasets import MissingExtraError
from nn.serialize import ModelFileError, model_from_dict, model_to_dict
from nn.loss_table import LOSSES
from nn.step_functions import as_predictions, batch_step
from nn.trainer import Trainer
from nn.training_config import HIDDEN_ACTIVATIONS, TrainConfig

__all__ = ["LIMITS", "SettingsError", "NetworkSession", "parse_settings", "STATE_FORMAT",
           "choices"]

# What one request may ask for: enough for any lesson, small enough that a browser cannot
# exhaust the machine. The server enforces them; the page shows them beside the controls.
LIMITS = {
    "hidden_layers": 4,        # hidden layers
    "neurons": 16,             # neurons in one hidden layer
    "points": 500,             # dataset size
    "steps_per_request": 50,   # optimiser steps one "train" message may ask for
    "lr": 10.0,                # largest learning rate
    "history": 2000,           # loss/accuracy points kept (older ones are thinned)
}
GRID = 20                      # the decision-boundary heatmap is GRID x GRID points
CURVE = 100                    # points of a 1-D regression curve
SATURATED = 0.01               # a local derivative below this passes almost no gradient
SATURATION_POINTS = 30         # points the saturation marks are measured on, each frame
STATE_FORMAT = "chainrule-playground"
# Version 2 adds the optimiser's running state (momentum, Adam) and the curves'
# history; version 1 files still load, their momentum/Adam starting from zero.
STATE_VERSION = 2
DIGITS_SHOWN = 60              # test digits drawn, each with its predicted label
# Default learning rates beside SGD's (chainrule train's, passed in), found by trying
# (200 full-batch steps on moons, each activation): momentum 0.9 makes steps about ten
# times longer, so a tenth of SGD's; Adam scales its steps itself.
OPTIMIZER_LR = {"momentum": lambda sgd_lr: sgd_lr / 10, "adam": lambda sgd_lr: 0.03}

# The datasets the page can draw: two classes in the plane (a heatmap), a curve, or
# digits (64 inputs, 10 classes: test digits marked right or wrong, a confusion matrix).
PLAYGROUND_DATASETS = list(DATASETS)
# The dataset is `chainrule train`'s default (TrainConfig's); None: the dataset's row
# (nn.datasets.DATASETS), as `chainrule train` reads it.
DEFAULTS = {"dataset": TrainConfig.dataset, "hidden": None, "activation": None, "loss": None,
            "optimizer": "sgd", "lr": None, "batch_size": None, "seed": 0,
            "samples": None, "noise": None}


def choices() -> dict:
    """What the page's menus offer, as [value, label] pairs, from the rows that define
    them: the datasets (the default first), the hidden activations and the training
    losses; the value "" leaves the choice to the dataset's row."""
    def named(name, note):
        return [name, f"{name} ({note})" if note else name]

    first = DEFAULTS["dataset"]
    datasets = [first] + [name for name in PLAYGROUND_DATASETS if name != first]
    return {"dataset": [named(name, DATASETS[name].note) for name in datasets],
            "activation": [["", "the dataset's"]] + [[a, a] for a in HIDDEN_ACTIVATIONS],
            "loss": [["", "default"]] + [named(name, loss.note)
                                         for name, loss in LOSSES.items()]}


class SettingsError(ValueError):
    """A setting the page sent that cannot be used; the message says which and why."""


def _int(value, name, low, high):
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, "
                            f"got {value!r}")
    return value


def _number(value, name, low, high, strict_low=True):
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value > high \
            or (value <= low if strict_low else value < low):
        bound = f"above {low}" if strict_low else f"at least {low}"
        raise SettingsError(f"{name} must be a number {bound} and at most {high}, "
                            f"got {value!r}")
    return float(value)


def parse_settings(raw) -> dict:
    """The page's settings, checked against LIMITS; None means the dataset's default."""
    if not isinstance(raw, dict):
        raise SettingsError("settings must be a JSON object")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]!r}; the settings are "
                            f"{', '.join(DEFAULTS)}")
    s = dict(DEFAULTS, **{k: v for k, v in raw.items() if v not in (None, "")})
    if s["dataset"] not in PLAYGROUND_DATASETS:
        raise SettingsError(f"unknown dataset {s['dataset']!r}; the playground draws "
                            f"{', '.join(PLAYGROUND_DATASETS)}")
    hidden = s["hidden"]
    if hidden is None:  # the dataset's own (chainrule train's), within the limits
        hidden = [min(n, LIMITS["neurons"])
                  for n in DATASETS[s["dataset"]].hidden[:LIMITS["hidden_layers"]]]
    if isinstance(hidden, str):
        hidden = [part for part in hidden.replace(" ", "").split(",") if part]
    if not isinstance(hidden, list) or not 1 <= len(hidden) <= LIMITS["hidden_layers"]:
        raise SettingsError(f"layer sizes: give 1 to {LIMITS['hidden_layers']} hidden layer "
                            f"sizes separated by commas, e.g. 8,8; got {s['hidden']!r}")
    s["hidden"] = [_int(n, "each hidden layer size", 1, LIMITS["neurons"]) for n in hidden]
    if s["samples"] is not None:
        s["samples"] = _int(s["samples"], "points", 2, LIMITS["points"])
    if s["optimizer"] not in OPTIMIZERS:
        raise SettingsError(f"unknown optimiser {s['optimizer']!r}; use one of: "
                            f"{', '.join(OPTIMIZERS)}")
    if s["lr"] is not None:
        s["lr"] = _number(s["lr"], "learning rate", 0.0, LIMITS["lr"])
    if s["batch_size"] in ("full", "all"):
        s["batch_size"] = None
    if s["batch_size"] is not None:
        s["batch_size"] = _int(s["batch_size"], "batch size", 1, LIMITS["points"])
    s["seed"] = _int(s["seed"], "seed", 0, 2 ** 31 - 1)
    if s["noise"] is not None:
        s["noise"] = _number(s["noise"], "noise", 0.0, 2.0, strict_low=False)
    return s


def _trace(model, x):
    """The model on one input: its outputs, and each neuron's (net input node, output node)."""
    layers = model.forward(x)[1:]
    return layers[-1], [[(Neuron.net_of(out), out) for out in outs] for outs in layers]


def _history(raw):
    """A saved history of [step, loss, accuracy or None] rows, checked; [] if absent."""
    if raw is None:
        return []
    problem = "the saved curves must be a list of [step, loss, accuracy] rows"
    if not isinstance(raw, list) or len(raw) > LIMITS["history"]:
        raise SettingsError(f"{problem} (at most {LIMITS['history']})")
    rows = []
    for row in raw:
        if not (isinstance(row, list) and len(row) == 3 and type(row[0]) is int
                and all(v is None or (type(v) in (int, float) and math.isfinite(v))
                        for v in row[1:]) and row[1] is not None):
            raise SettingsError(f"{problem}; found {str(row)[:60]}")
        rows.append(list(row))
    return rows


def _outputs(out):
    return out if isinstance(out, list) else [out]


class NetworkSession:
    """The network tab of one browser tab: settings, model, optimiser, data and history."""

    def __init__(self, raw_settings=None, model_state=None):
        self.settings = parse_settings(raw_settings or {})
        s = self.settings
        try:
            samples = s["samples"] if s["samples"] is not None else \
                min(DATASETS[s["dataset"]].samples, LIMITS["points"])  # the row's, capped
            config = TrainConfig(s["dataset"], tuple(s["hidden"]), s["activation"], s["loss"],
                                 s["lr"], None, s["batch_size"], s["seed"], samples,
                                 s["noise"]).resolved()
            if s["lr"] is None and s["optimizer"] in OPTIMIZER_LR:
                config = dataclasses.replace(config,
                                             lr=OPTIMIZER_LR[s["optimizer"]](config.lr))
            self.trainer = Trainer(config, make_step=self._recording_step)
        except MissingExtraError as error:
            raise SettingsError(str(error)) from None
        except ValueError as error:
            # TrainConfig speaks to the command line (--loss ce); the page has no flags.
            raise SettingsError(str(error).replace("--", "")) from None
        self.config, self.task = self.trainer.config, self.trainer.task
        self.X, self.y = self.trainer.X, self.trainer.y
        self.X_test, self.y_test = self.trainer.X_test, self.trainer.y_test
        self.classes = DATASETS[self.config.dataset].classes
        self.plane = len(self.X[0]) <= 2  # drawn over the plane (or a line), not as images
        self.model = self.trainer.model
        if model_state is not None:
            self._load_weights(model_state)
        self.params = self.model.parameters()
        self.trainer.optimizer = OPTIMIZERS[s["optimizer"]](self.params, self.config.lr)
        self.batch = self.trainer.batch_size
        self._index = {id(x): i for i, x in enumerate(self.X)}  # a batch's points by number
        self.history = []                  # [step, loss, accuracy] per frame
        self.gradient = None               # the latest step's (weights, batch, grads)
        self.measured = None               # the latest step's (loss, accuracy) on its batch
        # Neurons whose activation saturates, and the points their marks are measured on.
        self._squashing = [(li, ni) for li, layer in enumerate(self.model.layers)
                           for ni, n in enumerate(layer.neurons)
                           if n.activation in ("sigmoid", "tanh")]
        every = max(1, len(self.X) // SATURATION_POINTS)
        self._saturation_points = self.X[::every][:SATURATION_POINTS]
        self._probe = self._compile_probe()

    # ------------------------------------------------------------------ state
    def _load_weights(self, state):
        try:
            loaded = model_from_dict(state)
        except ModelFileError as error:
            raise SettingsError(f"the saved network cannot be used: {error}") from None
        mine, theirs = model_to_dict(self.model), model_to_dict(loaded)
        if mine["architecture"] != theirs["architecture"]:
            raise SettingsError(f"the saved network is {theirs['architecture']} but the "
                                f"settings describe {mine['architecture']}")
        for p, q in zip(self.model.parameters(), loaded.parameters()):
            p.data = q.data

    def state(self) -> dict:
        """Everything needed to go on exactly where this tab is: settings, weights, the
        optimiser's running state, the step count (which fixes the batch order) and
        the curves."""
        return {"format": STATE_FORMAT, "version": STATE_VERSION, "settings": self.settings,
                "model": model_to_dict(self.model), "steps": self.steps,
                "optimizer": self.trainer.optimizer.state_dict(),
                "history": self.history}

    @classmethod
    def from_state(cls, state):
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise SettingsError(f"this is not a saved playground (no \"format\": "
                                f"\"{STATE_FORMAT}\" field); save one with the Save button")
        version = state.get("version")
        if type(version) is not int or version not in (1, STATE_VERSION):
            raise SettingsError(f"saved playground version {version!r} is not supported; "
                                f"this chainrule reads versions 1 and {STATE_VERSION}")
        session = cls(state.get("settings"), model_state=state.get("model"))
        steps = state.get("steps", 0)
        if type(steps) is not int or not 0 <= steps <= 10 ** 9:
            raise SettingsError(f"the saved step count {steps!r} is not a whole number >= 0")
        session.trainer.resume_at(steps)  # the batch order the saved tab would take next
        session.note = None
        if version == 1:
            if session.settings["optimizer"] != "sgd":
                session.note = (f"this file was saved by an older playground, without the "
                                f"{session.settings['optimizer']} optimiser's running state: "
                                "it starts again from zero")
            return session
        try:
            session.trainer.optimizer.load_state_dict(state.get("optimizer"))
        except ValueError as error:
            raise SettingsError(f"the saved optimiser state cannot be used: {error}") from None
        session.history = _history(state.get("history"))
        return session

    note = None  # a remark for the page about a loaded file (not an error)

    @property
    def steps(self):
        return self.trainer.steps

    @property
    def epoch(self):
        return self.trainer.epoch

    # --------------------------------------------------------------- training
    def _recording_step(self, model, loss_name):
        """The Trainer's step function, noting the weights it saw, its batch and the
        gradient it left, for the picture and the derivations. The step itself is
        nn.step_functions' batch step (one sample's graph compiled once for every batch, numpy
        over the batch): fast from the first frame, and the same numbers as the engine's
        backward() on the batch (tests/nn/test_train_batch.py holds them equal)."""
        inner = batch_step(model, loss_name)
        params = model.parameters()

        def step(X, y):
            weights = [p.data for p in params]
            loss, outputs = inner(X, y)
            self.gradient = (weights, [self._index[id(x)] for x in X],
                             [p.grad for p in params])
            return loss, outputs

        return step

    def train(self, steps: int):
        """`steps` Trainer steps. Raises ArithmeticError (model unchanged) on divergence."""
        steps = _int(steps, "steps", 1, LIMITS["steps_per_request"])
        for _ in range(steps):
            report = self.trainer.step()
            self.measured = (report.loss, report.accuracy)

    # ---------------------------------------------------------------- drawing
    def _compile_probe(self):
        """The network over many points at once, its outputs and the sigmoid/tanh
        neurons' net inputs and outputs watched: autograd_core's batch compile of one
        input's graph (numpy over the points), so the heatmap, the held-out digits and
        the saturation marks are the engine's numbers at numpy's speed."""
        inputs = [Value(0.0, label=f"x{i + 1}") for i in range(len(self.X[0]))]
        with paused_gc():
            outs, neurons = _trace(self.model, inputs)
            squashing = [neurons[li][ni] for li, ni in self._squashing]
            return compile_outputs(list(outs) + [net for net, _ in squashing]
                                   + [out for _, out in squashing], self.params, inputs)

    def _run_probe(self, points):
        """For each point: (the network's outputs, the squashing neurons' net inputs,
        their outputs), as lists of floats, at the current weights."""
        weights = [p.data for p in self.params]
        columns = [list(column) for column in zip(*points)]
        rows = self._probe(weights, columns)
        k, m = len(self.model.layers[-1].neurons), len(self._squashing)
        return [(row[:k], row[k:k + m], row[k + m:]) for row in rows]

    def _predict(self, points, raw=False):
        """The network's output at each point; P(class 1) for classification unless raw."""
        outs = [row[0] for row in self._run_probe(points)]
        if not raw and self.task == "classification":
            outs = as_predictions(outs, self.config.loss)  # bce's logit to P(class 1)
        return [out[0] for out in outs]

    def _bounds(self):
        xs = [p[0] for p in self.X]
        pad = 0.1 * (max(xs) - min(xs)) or 1.0
        bounds = [min(xs) - pad, max(xs) + pad]
        if len(self.X[0]) == 2:
            ys = [p[1] for p in self.X]
            pad = 0.1 * (max(ys) - min(ys)) or 1.0
            bounds += [min(ys) - pad, max(ys) + pad]
        else:
            pad = 0.1 * (max(self.y) - min(self.y)) or 1.0
            bounds += [min(self.y) - pad, max(self.y) + pad]
        return bounds

    def _digits_field(self):
        """The held-out digits: each one's predicted class (the first DIGITS_SHOWN are
        drawn), the confusion matrix and the accuracy over all of them (at most a
        quarter of LIMITS["points"], through the batch-compiled network)."""
        logits = [row[0] for row in self._run_probe(self.X_test)]
        # the class of the largest logit (softmax keeps the order; ties: the first)
        predicted = [max(range(len(z)), key=z.__getitem__) for z in logits]
        confusion = [[0] * self.classes for _ in range(self.classes)]
        for truth, guess in zip(self.y_test, predicted):
            confusion[int(truth)][guess] += 1
        right = sum(int(t) == g for t, g in zip(self.y_test, predicted))
        return {"kind": "digits", "shown": min(DIGITS_SHOWN, len(self.X_test)),
                "predicted": predicted,
                "confusion": confusion, "test_accuracy": right / len(self.X_test),
                "test_points": len(self.X_test)}

    def picture(self):
        """What the page draws: heatmap, curve or digits, the curves' latest point, the
        network."""
        if not self.plane:
            return self._frame(self._digits_field())
        x0, x1, y0, y1 = self._bounds()
        if len(self.X[0]) == 2:
            grid = [[x0 + (x1 - x0) * i / (GRID - 1), y0 + (y1 - y0) * j / (GRID - 1)]
                    for j in range(GRID) for i in range(GRID)]
            field = {"kind": "heatmap", "n": GRID,
                     "values": [round(p, 4) for p in self._predict(grid)]}
        else:
            grid = [[x0 + (x1 - x0) * i / (CURVE - 1)] for i in range(CURVE)]
            field = {"kind": "curve", "x": [g[0] for g in grid],
                     "values": [round(v, 4) for v in self._predict(grid)]}
        field["bounds"] = [x0, x1, y0, y1]
        return self._frame(field)

    def _frame(self, field):
        if self.measured is None:  # no step yet: measure on all the data
            self.measured = self.trainer.evaluate()
        loss, accuracy = self.measured
        self.history.append([self.steps, loss, accuracy])
        if len(self.history) > LIMITS["history"]:
            self.history = self.history[::2]  # thin evenly: the whole run stays visible
        return {"type": "frame", "step": self.steps, "epoch": self.epoch, "loss": loss,
                "accuracy": accuracy, "field": field,
                "network": self._network(self._saturation()), "point": self.history[-1]}

    def _saturation(self):
        """For each sigmoid/tanh neuron, the share of the saturation points where its
        local derivative (the op table's, nn.backprop.activation_slope) is below
        SATURATED (None for other neurons)."""
        marks = [[None] * len(layer.neurons) for layer in self.model.layers]
        if not self._squashing:
            return marks
        rows = self._run_probe(self._saturation_points)
        for j, (li, ni) in enumerate(self._squashing):
            kind = self.model.layers[li].neurons[ni].activation
            flat = sum(abs(activation_slope(kind, nets[j], outs[j])[0]) < SATURATED
                       for _, nets, outs in rows)
            marks[li][ni] = round(flat / len(rows), 3)
        return marks

    def _network(self, saturation):
        grads = self.gradient[2] if self.gradient else None
        layers, k = [], 0
        for li, layer in enumerate(self.model.layers):
            neurons = []
            for ni, neuron in enumerate(layer.neurons):
                n = len(neuron.w)
                # full floats: json writes them in C, rounding each in Python cost
                # more than the rest of a digits frame
                entry = {"w": [w.data for w in neuron.w], "b": neuron.b.data,
                         "saturated": saturation[li][ni]}
                if grads:
                    entry["dw"] = grads[k:k + n]
                    entry["db"] = grads[k + n]
                k += n + 1
                neurons.append(entry)
            layers.append({"activation": layer.neurons[0].activation, "neurons": neurons})
        return {"inputs": len(self.X[0]), "layers": layers}

    def setup(self):
        """The first message after (re)configuring: data, settings and limits (the
        digits: the held-out images the page draws, not the 64-pixel training set)."""
        reply = {"type": "setup", "settings": self.settings,
                 "resolved": {"lr": self.config.lr, "loss": self.config.loss,
                              "batch": self.batch, "task": self.task,
                              "classes": self.classes, "train_points": len(self.X),
                              "test_points": len(self.X_test)},
                 "X": self.X if self.plane else [], "y": self.y if self.plane else [],
                 "limits": LIMITS, "history": self.history}
        if not self.plane:
            reply["X_test"] = [[round(v, 3) for v in x] for x in self.X_test]
            reply["y_test"] = self.y_test
        if self.note:
            reply["note"] = self.note
        return reply

    # ------------------------------------------------------------ derivations
    def _replay(self):
        """The latest step again on the eager engine: the batch's graphs after backward(),
        with the weights that step saw (before any step: the first batch at the current
        weights). Returns (model copy holding the batch's grads, the points, the loss)."""
        if self.gradient is None:
            weights = [p.data for p in self.params]
            chosen = list(range(self.batch))
        else:
            weights, chosen = self.gradient[0], self.gradient[1]
        copy = model_from_dict(model_to_dict(self.model))
        for p, w in zip(copy.parameters(), weights):
            p.data = w
        with paused_gc():
            loss = LOSSES[self.config.loss].function([_outputs(copy(self.X[i])) for i in chosen],
                                                     [self.y[i] for i in chosen])
            loss.backward()
        return copy, chosen, loss

    def _per_point(self):
        """(nn.neuron_backward's loss name, the factor from one point's cost to the batch's
        mean cost C), from the loss's row: the mean of the points' costs is 1/N times
        their sum for bce and ce, 2/N for mse."""
        loss = LOSSES[self.config.loss]
        return loss.neuron_loss, loss.neuron_factor

    def _target(self, sample):
        """A point's target as nn.neuron_backward takes it (a class index for ce)."""
        y = self.y[sample]
        return int(y) if LOSSES[self.config.loss].class_index else y

    def _neuron(self, layer, neuron):
        layer = _int(layer, "layer", 1, len(self.model.layers))
        neuron = _int(neuron, "neuron", 1, len(self.model.layers[layer - 1].neurons))
        return layer, neuron

    def weight_derivation(self, layer, neuron, source):
        """dC/dw for the weight from `source` (1-based input or neuron of the layer
        before, or 0 for the bias) into neuron `neuron` of layer `layer`: each point's
        o_i and delta_j from nn.neuron_backward, their sum, and the engine's batch grad."""
        layer, neuron = self._neuron(layer, neuron)
        fan_in = len(self.model.layers[layer - 1].neurons[0].w)
        source = _int(source, "source", 0, fan_in)
        copy, chosen, loss = self._replay()
        target = copy.layers[layer - 1].neurons[neuron - 1]
        param = target.b if source == 0 else target.w[source - 1]
        per_point, factor = self._per_point()
        rows, rule = [], None
        for sample in chosen:
            result = neuron_backward(copy, self.X[sample], self._target(sample),
                                     loss=per_point)
            delta = result.deltas[layer][neuron - 1]
            o = 1.0 if source == 0 else result.outs[layer - 1][source - 1]
            rows.append([sample, o, delta, o * delta])
            if rule is None:
                rule = next(step.rule for step in result.steps
                            if step.kind == ("bias" if source == 0 else "weight")
                            and step.layer == layer and step.neuron == neuron - 1
                            and step.what.endswith(param.label))
        scale = factor / len(chosen)
        return {"type": "weight", "layer": layer, "neuron": neuron, "source": source,
                "name": param.label, "rule": rule, "value": param.data, "rows": rows,
                "factor": factor, "total": scale * math.fsum(r[3] for r in rows),
                "grad": param.grad, "optimizer": self.settings["optimizer"],
                "lr": self.config.lr, "loss": loss.data, "loss_name": self.config.loss,
                "after_step": self.gradient is not None, "batch": len(chosen)}

    def neuron_derivation(self, layer, neuron, sample_index=0):
        """One neuron's delta on one point of the batch: nn.neuron_backward's rule, with
        its numbers (each checked there against the engine)."""
        layer, neuron = self._neuron(layer, neuron)
        copy, chosen, _ = self._replay()
        sample_index = _int(sample_index, "point", 0, len(chosen) - 1)
        sample = chosen[sample_index]
        per_point, factor = self._per_point()
        result = neuron_backward(copy, self.X[sample], self._target(sample), loss=per_point,
                                 digits=6)
        step = next(s for s in result.steps
                    if s.kind == "delta" and s.layer == layer and s.neuron == neuron - 1)
        n = copy.layers[layer - 1].neurons[neuron - 1]
        net, out = result.nets[layer][neuron - 1], result.outs[layer][neuron - 1]
        slope = activation_slope(n.activation, net, out)[0]
        return {"type": "neuron", "layer": layer, "neuron": neuron, "name": n.name,
                "sample": sample, "sample_index": sample_index, "batch": len(chosen),
                "activation": n.activation, "net": net, "out": out, "local": slope,
                "delta": step.value, "engine": step.engine, "line": step.line(6),
                "rule": step.rule, "numbers": step.numbers, "loss_name": per_point,
                "factor": factor, "target": self.y[sample],
                "output_layer": layer == len(copy.layers),
                "after_step": self.gradient is not None}
