"""Training an MLP on one of nn.datasets: the configuration, the loop and its evaluation.

`Trainer` is the loop taken apart, so that a command line, a notebook or a web server
can drive it one gradient step at a time:

    trainer = Trainer(TrainConfig(dataset="moons"))
    report = trainer.step()          # one mini-batch (one epoch at full batch)
    loss, accuracy = trainer.run_epoch()
    trainer.model, trainer.epoch, trainer.losses, trainer.state()

`train(config)` runs it to the end and returns a `TrainResult`; `write_run(result, out)`
writes model.json, metrics.json and the pictures into the folder `out`, atomically as a
whole (the folder holds the complete old run or the complete new one).

All the calculus happens in one *step function*, `step(X, y) -> (loss, outputs)`, which
must leave d loss / d p in `p.grad` for every parameter p. `batch_step` (the default)
compiles the graph of one example once and runs it over each batch with numpy
(autograd_core's batch compile); `engine_step` builds every example's graph with the
engine and calls `backward()` (the reference: the same numbers to 1e-12 relative);
`compiled_step` replays one batch's whole graph as straight-line Python.
`batch_predictor(model)` is the network alone over many points at once. Everything is
seeded: the same `TrainConfig` gives the same model and metrics, bit for bit (only the
wall time differs).

Every default (layer sizes, activation, learning rate, epochs, batch size) comes from
the dataset's row in `nn.datasets.DATASETS`; the losses are the table `LOSSES` below.
"""

from __future__ import annotations

import math
import random
import sys
import time
import weakref
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

from autograd_core import Value, compile as compile_graph, paused_gc
from autograd_core.files import describe_size, interrupts_held
from autograd_core.ops import sigmoid

from .datasets import DATASETS, load_dataset
from .layers import ACTIVATIONS, MLP
from .losses import bce_with_logits, mse_loss
from .optim import SGD

__all__ = ["TrainConfig", "TrainResult", "Trainer", "StepReport", "LOSSES", "Loss",
           "HIDDEN_ACTIVATIONS", "default_lr", "engine_step", "compiled_step", "batch_step",
           "batch_predictor", "STEPS", "ENGINES", "set_blas_threads",
           "BLAS_THREAD_VARIABLES", "EVALUATION_CHUNK", "train",
           "evaluate", "predict", "metrics", "write_run", "estimate_memory",
           "available_memory", "TooLargeError", "check_memory",
           "build_model", "architecture", "RUN_FILES"]


# ------------------------------------------------------------------------ losses
def _cross_entropy(outputs, targets):
    from . import cross_entropy  # nn's softmax cross-entropy (log-sum-exp, stable)
    from autograd_core import value_sum
    return value_sum([cross_entropy(z, int(t)) for z, t in zip(outputs, targets)]) \
        / len(targets)


# The same losses for ONE sample whose target is a placeholder leaf (a Value standing for
# the sample's label, so that one graph serves a whole batch: batch_step). nn.losses takes
# its targets as plain numbers, baked into the graph; these take Values. Each is the
# nn.losses formula term for term (tests/test_train_batch.py holds them equal, step by
# step, to the engine on nn.losses).
def _bce_one_sample(outputs, targets):
    z, (t,) = outputs[0], targets
    return z.softplus() - t * z           # bce_with_logits' term


def _mse_one_sample(outputs, targets):
    return (outputs[0] - targets[0]) ** 2  # mse_loss's term


def _ce_one_sample(outputs, targets):
    """cross_entropy's log-sum-exp with one-hot targets t_j and the shift as a placeholder
    too (it is max z, a constant for the engine): log(sum_j exp(z_j - s)) + s - sum_j t_j z_j."""
    from autograd_core import value_sum
    *onehot, shift = targets
    return value_sum([(z - shift).exp() for z in outputs]).log() + shift \
        - value_sum([t * z for t, z in zip(onehot, outputs)])


@dataclass(frozen=True)
class Loss:
    """How a loss reads the network's outputs, and how outputs become predictions."""
    name: str
    description: str
    function: Callable        # (outputs: list of per-example lists of Values, targets) -> Value
    classes: tuple            # numbers of classes it serves (0: regression)
    one_sample: Callable = None  # (one sample's outputs, target placeholders) -> Value

    def output_activation(self, task):
        """The output layer's activation this loss expects."""
        if self.name == "mse" and task == "classification":
            return "sigmoid"  # mse compares a probability with the 0/1 label
        return "linear"       # logits (bce, ce) or a regression value


LOSSES = {
    "bce": Loss("bce", "binary cross-entropy on a logit: a linear output and the stable "
                "bce_with_logits (sigmoid + cross-entropy, finite for any logit)",
                lambda outs, ys: bce_with_logits([o[0] for o in outs], ys), (2,),
                _bce_one_sample),
    "mse": Loss("mse", "mean squared error: a sigmoid output for 0/1 labels, a linear one "
                "for regression",
                lambda outs, ys: mse_loss([o[0] for o in outs], ys), (0, 2),
                _mse_one_sample),
    "ce": Loss("ce", "softmax cross-entropy over the classes (one logit per class)",
               _cross_entropy, tuple(range(3, 1000)), _ce_one_sample),
}

# The hidden units a network may have (the output's is chosen by the loss).
HIDDEN_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name != "linear")

# Learning rates for a hidden activation other than the dataset's default one, found by
# trying (full batch, 300 epochs): tanh and relu units have larger derivatives than
# sigmoid ones and need smaller steps; regression's linear output + mse passes
# 2 (z - t) back unsquashed, so it needs steps about ten times smaller still.
_LR_BY_ACTIVATION = {
    "classification": {"sigmoid": 1.5, "tanh": 0.3, "relu": 0.2},
    "regression": {"sigmoid": 0.15, "tanh": 0.03, "relu": 0.02},
}


def default_lr(activation, task="classification", dataset=None):
    """The learning rate used when none is given."""
    if dataset is not None and DATASETS[dataset].activation == activation:
        return DATASETS[dataset].lr
    return _LR_BY_ACTIVATION[task][activation]


# ------------------------------------------------------------------ configuration
class TooLargeError(ValueError):
    """A configuration whose memory would not fit on this machine."""


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value):
    """A number as a message shows it: never a 300-digit line."""
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:10]}...({len(text)} digits)"


@dataclass
class TrainConfig:
    dataset: str = "moons"
    hidden: Optional[tuple] = None      # None: the dataset's default
    activation: Optional[str] = None    # None: the dataset's default
    loss: Optional[str] = None          # None: bce for 0/1 labels, ce for more, mse otherwise
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
        loss = self.loss or data.loss or ("mse" if task == "regression" else
                                          "bce" if data.classes == 2 else "ce")
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
                    not _is_int(value) or (name != "seed" and value < 1)):
                raise ValueError(f"{name} must be an int" + (" >= 1" if name != "seed" else "")
                                 + f", got {_short(value)}")
        hidden = data.hidden if self.hidden is None else tuple(self.hidden)
        if not all(_is_int(n) and n >= 1 for n in hidden):
            raise ValueError(f"hidden layer sizes must be ints >= 1, got {hidden!r}")
        activation = data.activation if self.activation is None else self.activation
        if activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; "
                             f"use one of: {', '.join(HIDDEN_ACTIVATIONS)}")
        lr = default_lr(activation, task, self.dataset) if self.lr is None else self.lr
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or \
                not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a positive finite number, got {lr!r}")
        defaults = _generator_defaults(self.dataset)
        samples = defaults["n"] if self.samples is None else self.samples
        least = data.classes if task == "classification" else 1  # a point of each class
        if not _is_int(samples) or samples < least:
            raise ValueError(f"{self.dataset} needs at least {least} samples, "
                             f"got {_short(samples)}")
        noise = defaults["noise"] if self.noise is None else self.noise
        epochs = data.epochs if self.epochs is None else self.epochs
        batch = data.batch_size if self.batch_size is None else self.batch_size
        return TrainConfig(self.dataset, hidden, activation, loss, float(lr), epochs,
                           batch, self.seed, samples, noise)


def _generator_defaults(dataset):
    import inspect
    parameters = inspect.signature(DATASETS[dataset].generator).parameters
    return {name: p.default for name, p in parameters.items()}


# -------------------------------------------------------------------- memory
# Bytes the engine holds per graph node and per edge (a parent reference and its local
# derivative), measured by peak RSS on CPython 3.11: eager graphs (engine_step) ~24 bytes
# an edge and ~200 a node; compile() (straight-line code, the batch compile without
# numpy) ~3,500 bytes an edge for its source text, AST and code object. A margin on
# top: the estimate should refuse what cannot fit, not be exact. A data point is a list
# of floats (~56 + 32 per coordinate).
_BYTES_PER_NODE = 260
_BYTES_PER_EDGE = 32
_BYTES_PER_COMPILED_EDGE = 4000
# The batch compile with numpy holds, per example of a batch, a handful of float64
# arrays per neuron (its net input and activation, their gradients, a temporary) and
# per input (the batch, stacked); cross-entropy adds a few per class. Measured: see
# tests/test_train_batch.py (the estimate covers the peak RSS of large runs).
_ARRAYS_PER_NEURON = 6
_ARRAYS_PER_INPUT = 3
_ARRAYS_PER_CLASS = 8
# ...and, per parameter, the compile's bookkeeping (where each weight sits, which node
# uses it) and the parameters and gradients as arrays and lists: measured ~750 bytes.
_BYTES_PER_COMPILED_PARAMETER = 800
_SAFETY = 0.8                   # use at most this share of what is available
ENGINES = ("batch", "eager")    # the step functions estimate_memory knows (STEPS)


def _sizes(config):
    data = DATASETS[config.dataset]
    nin = {"sine": 1, "digits": 64}.get(config.dataset, 2)
    return [nin, *config.hidden, data.classes if data.classes > 2 else 1]


def _graph_size(sizes):
    """(nodes, edges) of one example's forward graph and loss through an MLP of these sizes."""
    nodes = sizes[0]  # the inputs as leaves
    edges = 0
    for nin, nout in zip(sizes, sizes[1:]):
        nodes += 2 * nout          # a wsum node and an activation node per neuron
        edges += nout * (2 * nin + 2)
    nodes += 4 * sizes[-1]  # the loss terms
    edges += 4 * sizes[-1]
    return nodes, edges


def _batch(config):
    return config.samples if config.batch_size is None else min(config.batch_size,
                                                                config.samples)


def _has_numpy():
    import importlib.util
    try:
        return importlib.util.find_spec("numpy") is not None
    except (ImportError, ValueError):
        return False


def estimate_memory(config, engine="batch") -> int:
    """Bytes training with this (resolved) config will need at its peak, roughly.

    engine: "batch" (the default step, batch_step: one sample's graph, and arrays of
    examples x layer width over a batch) or "eager" (engine_step: a graph per example)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; use one of: {', '.join(ENGINES)}")
    sizes = _sizes(config)
    parameters = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    batch = _batch(config)
    nodes, edges = _graph_size(sizes)
    dataset = config.samples * (120 + 32 * sizes[0])
    if engine == "eager":
        graph = batch * (nodes * _BYTES_PER_NODE + edges * _BYTES_PER_EDGE)
    elif _has_numpy():
        # evaluation runs the compile over up to EVALUATION_CHUNK examples at once
        rows = max(batch, min(config.samples, EVALUATION_CHUNK))
        width = _ARRAYS_PER_INPUT * sizes[0] + _ARRAYS_PER_NEURON * sum(sizes[1:]) + \
            (_ARRAYS_PER_CLASS * sizes[-1] if sizes[-1] > 1 else 0)
        graph = nodes * _BYTES_PER_NODE + edges * _BYTES_PER_EDGE + 8 * rows * width + \
            parameters * _BYTES_PER_COMPILED_PARAMETER
        dataset += 8 * config.samples * (sizes[0] + 1)  # the data again, as arrays
    else:
        # one sample's compiled code, and each example's gradients until they are added
        graph = nodes * _BYTES_PER_NODE + edges * (_BYTES_PER_EDGE + _BYTES_PER_COMPILED_EDGE) \
            + batch * (parameters + sizes[-1]) * 32
    return parameters * _BYTES_PER_NODE + graph + dataset


def available_memory() -> int:
    """Bytes this process can still take: free memory, within any cgroup or rlimit."""
    limits = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file) as f:
                text = f.read().strip()
            if text != "max" and int(text) < 1 << 60:
                with open(usage_file) as f:
                    limits.append(int(text) - int(f.read().strip()))
        except (OSError, ValueError):
            pass
    try:
        import resource
        for which in ("RLIMIT_AS", "RLIMIT_DATA"):
            soft = resource.getrlimit(getattr(resource, which))[0]
            if soft != resource.RLIM_INFINITY:
                limits.append(soft - _address_space_bytes())
    except (ImportError, AttributeError, OSError, ValueError):
        pass
    if not limits:
        return 1 << 62  # nothing to go by: do not refuse
    return max(0, min(limits))


def _address_space_bytes():
    """This process's virtual size: what RLIMIT_AS counts."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * 4096
    except (OSError, ValueError, IndexError):
        return 0


def check_memory(config, available=None, engine="batch"):
    """Raise TooLargeError, saying what would fit, if `config` cannot fit in memory
    (trained with `engine`: see estimate_memory)."""
    available = available_memory() if available is None else available
    budget = int(available * _SAFETY)
    need = estimate_memory(config, engine)
    if need <= budget:
        return
    advice = []
    batch = _batch(config)
    for smaller in (1000, 100, 20, 10, 1):
        if smaller < batch and \
                estimate_memory(_replace(config, batch_size=smaller), engine) <= budget:
            advice.append(f"--batch-size {smaller}")
            break
    widest = _largest_fitting(lambda h: _replace(config, hidden=(h,) * len(config.hidden)),
                              max(config.hidden), budget, engine)
    if widest:
        advice.append(f"--hidden {','.join([str(widest)] * len(config.hidden))}")
    most = _largest_fitting(lambda n: _replace(config, samples=n), config.samples, budget,
                            engine)
    if most:
        advice.append(f"--samples {most}")
    hint = ("; what fits: " + " or ".join(advice)) if advice else \
        "; not even the smallest network fits"
    raise TooLargeError(
        f"this training would need about {describe_size(need)} of memory but "
        f"{describe_size(available)} is available{hint}")


def _replace(config, **changes):
    values = asdict(config)
    values.update(changes)
    values["hidden"] = tuple(values["hidden"])
    return TrainConfig(**values)


def _largest_fitting(make, upper, budget, engine):
    """The largest n < upper (>= 1) with estimate_memory(make(n)) <= budget, or None."""
    lo, hi = 0, upper
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if estimate_memory(make(mid), engine) <= budget:
            lo = mid
        else:
            hi = mid
    return lo or None


# --------------------------------------------------------------------- the steps
def _as_inputs(x):
    """One example's features as leaf Values, made once and shared by every neuron."""
    return [Value(v) for v in x]


def _outputs(model, x):
    out = model(_as_inputs(x))
    return out if isinstance(out, list) else [out]


def engine_step(model, loss_name):
    """The reference step function: the engine's forward pass and backward()."""
    params = model.parameters()
    loss_fn = LOSSES[loss_name].function

    def step(X, y):
        for p in params:
            p.grad = 0.0
        with paused_gc():
            outputs = [_outputs(model, x) for x in X]
            loss = loss_fn(outputs, y)  # a mean, so a batch's gradient is the average
            loss.backward()
        return loss.data, [[o.data for o in out] for out in outputs]

    return step


def compiled_step(model, loss_name):
    """The same step through autograd_core.compile: the graph is built once and replayed
    as straight-line Python, several times faster than building it every epoch.

    The data are baked into the compiled code, so it pays off when every call sees the
    same batch (full-batch training); a different batch is compiled anew.
    """
    params = model.parameters()
    loss_fn = LOSSES[loss_name].function
    cache = {"key": None, "function": None, "width": 1}

    def step(X, y):
        key = (tuple(map(tuple, X)), tuple(y))
        if key != cache["key"]:
            cache["function"] = None  # free the old graph's code before building anew
            with paused_gc():
                outputs = [_outputs(model, x) for x in X]
                loss = loss_fn(outputs, y)
                cache["function"] = compile_graph(
                    loss, params, watch=[o for out in outputs for o in out])
            cache["key"], cache["width"] = key, len(outputs[0])
        function = cache["function"]
        loss, grads = function([p.data for p in params])
        for p, g in zip(params, grads):
            p.grad = g
        flat, width = function.watched_values, cache["width"]
        return loss, [list(flat[i:i + width]) for i in range(0, len(flat), width)]

    return step


# ------------------------------------------------ one sample's graph for a batch
def _numpy():
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _placeholders(count, stem):
    return [Value(0.0, label=f"{stem}{i + 1}") for i in range(count)]


def _nin(model):
    return len(model.layers[0].neurons[0].w)


def _one_sample_outputs(model, inputs):
    out = model(inputs)
    return out if isinstance(out, list) else [out]


class _Points:
    """A batch of points as what a batch compile takes: one column per coordinate (numpy
    arrays when the compile uses numpy, lists otherwise)."""

    def __init__(self, points, nin, np):
        if np is not None:
            array = points if isinstance(points, np.ndarray) else np.asarray(points, dtype=float)
            if array.dtype != np.float64:
                array = array.astype(np.float64)
            if array.ndim != 2 or array.shape[1] != nin or array.shape[0] == 0:
                raise ValueError(f"give a list of points, each a list of {nin} numbers; got "
                                 f"an array of shape {array.shape}")
            self.count, self.columns = array.shape[0], list(array.T)
        else:
            points = [list(p) for p in points]
            if not points or any(len(p) != nin for p in points):
                raise ValueError(f"give a list of points, each a list of {nin} numbers")
            self.count, self.columns = len(points), [list(c) for c in zip(*points)]


def batch_predictor(model, loss_name=None):
    """The network over many points at once: returns `predictor(points) -> outputs`.

    `points` is a list of points (each a list of `nin` numbers) or an N x nin numpy
    array; `outputs` holds one list of floats per point: the network's raw outputs
    (loss_name=None), or what `predict` gives for that loss (probabilities for bce and
    ce). One sample's graph is compiled once (autograd_core.batch.compile_outputs) and
    run with numpy over all the points when numpy is installed, the scalar compiled
    code once per point otherwise; each call reads the model's current weights, so one
    predictor serves a whole training run. `predictor.uses_numpy` says which form runs;
    `predictor.arrays(points)` gives the raw outputs as an N x k numpy array (numpy only).
    """
    from autograd_core.batch import compile_outputs
    params = model.parameters()
    nin = _nin(model)
    inputs = _placeholders(nin, "x")
    with paused_gc():
        outputs = _one_sample_outputs(model, inputs)
        function = compile_outputs(outputs, params, inputs)
    np = function._np

    def predictor(points):
        rows = function([p.data for p in params], _Points(points, nin, np).columns)
        return rows if loss_name is None else _as_predictions(rows, loss_name)

    def arrays(points):
        if np is None:
            raise RuntimeError("batch_predictor: arrays() needs numpy; call the predictor "
                               "itself for lists")
        return function.as_arrays([p.data for p in params], _Points(points, nin, np).columns)

    predictor.uses_numpy = np is not None
    predictor.arrays = arrays
    predictor.source = function.source
    return predictor


class _BatchLoss:
    """A model's mean loss over a batch, its gradients and the outputs per example, from
    one compile of one sample's graph (autograd_core's batch compile)."""

    def __init__(self, model, loss_name):
        self.params = model.parameters()
        self.loss_name = loss_name
        nin = _nin(model)
        inputs = _placeholders(nin, "x")
        with paused_gc():
            outputs = _one_sample_outputs(model, inputs)
            self.width = len(outputs)
            if loss_name == "ce":
                targets = _placeholders(self.width, "t") + [Value(0.0, label="shift")]
            else:
                targets = [Value(0.0, label="t")]
            loss = LOSSES[loss_name].one_sample(outputs, targets)
            self.function = compile_graph(loss, self.params, batch=inputs + targets,
                                          reduce="mean", watch=outputs)
        self.np = self.function._np
        self.nin = nin
        # cross-entropy's shift is each sample's largest logit, known only after a
        # forward pass: the outputs' own compile
        self.logits = None
        if loss_name == "ce":
            from autograd_core.batch import compile_outputs
            with paused_gc():
                self.logits = compile_outputs(outputs, self.params, inputs)

    def __call__(self, X, y):
        """(mean loss, gradients, outputs: an N x k array with numpy, else N lists)."""
        np = self.np
        batch = _Points(X, self.nin, np)
        values = [p.data for p in self.params]
        if np is not None:
            values = np.array(values, dtype=np.float64)  # once for both calls
            y = y if isinstance(y, np.ndarray) else np.asarray(y, dtype=np.float64)
            if self.loss_name == "ce":
                shift = self.logits.as_arrays(values, batch.columns).max(axis=1)
                onehot = (y[:, None] == np.arange(self.width)).astype(np.float64)
                targets = list(onehot.T) + [shift]
            else:
                targets = [y]
        else:
            y = [float(t) for t in y]
            if self.loss_name == "ce":
                shift = [max(row) for row in self.logits(values, batch.columns)]
                targets = [[float(t == c) for t in y] for c in range(self.width)] + [shift]
            else:
                targets = [y]
        loss, grads = self.function(values, batch.columns + targets)
        outputs = self.function.watched_array if np is not None else \
            self.function.watched_values
        return loss, grads, outputs


def batch_step(model, loss_name):
    """The default step: autograd_core's batch compile of one sample's graph, run for
    the whole (mini-)batch at once with numpy (the scalar compiled code once per sample
    without numpy). One compile serves every batch size. The same numbers as
    `engine_step` to rounding (1e-12 relative; tests/test_train_batch.py).

    X may be a list of examples or an N x nin numpy array, y a list or array; the
    outputs it returns are an N x k numpy array with numpy, else N lists.
    """
    compiled = _BatchLoss(model, loss_name)
    params = compiled.params

    def step(X, y):
        with paused_gc():  # a step makes no cycles; the model's graph need not be scanned
            loss, grads, outputs = compiled(X, y)
            for p, g in zip(params, grads):
                p.grad = g
        return loss, outputs

    step.takes_arrays = compiled.np is not None
    step.batch_loss = compiled  # the Trainer evaluates with it too: one compile per run
    return step


STEPS = {"batch": batch_step, "eager": engine_step}  # `chainrule train --engine`


# ------------------------------------------------------------------- threads
# The variables the BLAS libraries numpy may be built with read when they load: OpenBLAS
# (numpy's wheels) reads OPENBLAS_NUM_THREADS, then OMP_NUM_THREADS; MKL reads
# MKL_NUM_THREADS; BLIS and Apple's Accelerate their own.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                         "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def set_blas_threads(threads=1):
    """Make numpy's BLAS (its matrix products) use `threads` threads in this process.

    Before numpy is imported this sets the variables above, which the library reads
    when it loads (and child processes inherit); once numpy is loaded only threadpoolctl
    can change it, if installed. Returns "environment", "threadpoolctl", or None when
    numpy is loaded and threadpoolctl is missing (nothing changed).

    Why one thread by default: the matrices of these networks are small (a batch x a
    few dozen neurons), so a product takes microseconds, less than it takes to wake
    other threads; on a busy machine (2 cores shared here) a threaded BLAS spins and
    waits for cores, and one step was measured 250 x slower than on one thread.
    """
    if not _is_int(threads) or threads < 1:
        raise ValueError(f"threads must be an int >= 1, got {_short(threads)}")
    if "numpy" not in sys.modules:
        import os
        for name in BLAS_THREAD_VARIABLES:
            os.environ[name] = str(threads)
        return "environment"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    threadpool_limits(limits=threads, user_api="blas")
    return "threadpoolctl"


# ---------------------------------------------------------------- predictions
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


def _as_predictions(outs, loss_name):
    if loss_name == "bce":
        return [[sigmoid(z[0])] for z in outs]
    if loss_name == "ce":
        return [_softmax_floats(z) for z in outs]
    return outs


def _softmax_floats(z):
    top = max(z)
    exps = [math.exp(v - top) for v in z]
    total = sum(exps)
    return [e / total for e in exps]


def _classes(outputs, loss_name):
    """The predicted class of each example's outputs (floats)."""
    if loss_name == "ce":
        return [max(range(len(out)), key=out.__getitem__) for out in outputs]
    cut = 0.0 if loss_name == "bce" else 0.5  # logits at 0, probabilities at 0.5
    return [int(out[0] > cut) for out in outputs]


def _correct(outputs, y, loss_name):
    """How many examples' outputs (N lists, or an N x k numpy array) predict their label."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(outputs, np.ndarray):
        if loss_name == "ce":
            predicted = outputs.argmax(axis=1)  # the first of equal ones, as max() takes
        else:
            predicted = outputs[:, 0] > (0.0 if loss_name == "bce" else 0.5)
        return int((predicted == np.asarray(y).astype(int)).sum())
    predicted = _classes(outputs, loss_name)
    return sum(p == int(t) for p, t in zip(predicted, y))


def _accuracy(outputs, y, loss_name):
    return _correct(outputs, y, loss_name) / len(y)


# Evaluation runs the batch compile over this many examples at a time: its arrays are
# examples x layer width, and a whole large dataset at once would be the run's peak.
EVALUATION_CHUNK = 4096


def evaluate(model, X, y, loss_name, task, compiled=None):
    """(loss, accuracy) of the model on all of X, y; accuracy is None for regression.

    The batch compile of the model's loss (compiled: one made before, to reuse), over
    chunks of EVALUATION_CHUNK examples; the loss is their mean."""
    compiled = _BatchLoss(model, loss_name) if compiled is None else compiled
    total, correct = 0.0, 0
    for start in range(0, len(X), EVALUATION_CHUNK):
        bx, by = X[start:start + EVALUATION_CHUNK], y[start:start + EVALUATION_CHUNK]
        loss, _, outputs = compiled(bx, by)
        total += loss * len(by)
        if task == "classification":
            correct += _correct(outputs, by, loss_name)
    return total / len(X), (correct / len(X) if task == "classification" else None)


# ----------------------------------------------------------------------- results
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
            np = _numpy()
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
        correct = _correct(outs, by, self.config.loss) if self.task == "classification" \
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
            self._evaluator = _BatchLoss(self.model, self.config.loss)
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
                "config": _config_dict(self.config), "model": model_to_dict(self.model)}

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
    nout = data.classes if data.classes > 2 else 1
    output = LOSSES[config.loss].output_activation(data.task)
    return MLP(nin, list(config.hidden) + [nout], activation=config.activation,
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


# ----------------------------------------------------------------------- output
def chainrule_version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("chainrule")
    except PackageNotFoundError:
        return "unknown"


def _config_dict(config):
    return {**asdict(config), "hidden": list(config.hidden)}


def architecture(model):
    sizes = [len(model.layers[0].neurons[0].w)] + [len(l.neurons) for l in model.layers]
    return {"sizes": sizes,
            "activations": [layer.neurons[0].activation for layer in model.layers]}


def metrics(result):
    c = result.config
    data = {
        "dataset": c.dataset,
        "task": result.task,
        "args": _config_dict(c),
        "architecture": architecture(result.model),
        "epochs": c.epochs,
        "epochs_completed": result.epochs_completed,
        "interrupted": result.interrupted,
        "final_loss": result.final_loss,
        "accuracy": result.accuracy,
        "loss_history": result.losses,
        "wall_time_seconds": round(result.wall_time, 3),
        "seed": c.seed,
        "chainrule_version": chainrule_version(),
    }
    if result.X_test:
        data.update(train_samples=len(result.X), test_samples=len(result.X_test),
                    test_loss=result.test_loss, test_accuracy=result.test_accuracy)
    return data


RUN_FILES = ("model.json", "metrics.json", "loss.png", "boundary.png", "fit.png",
             "confusion.png", "misclassified.png")


def write_run(result, out, pictures=True):
    """Write model.json, metrics.json and (pictures=True) the pictures into folder `out`.

    The whole run is written into a new sibling folder and swapped in at the end, so
    `out` holds the complete old run or the complete new one, whatever happens (Ctrl-C,
    a full disk, a killed process). Returns the paths of the files, as they are in `out`.
    """
    import json
    import os

    from autograd_core.files import atomic_write, staged_folder
    from .serialize import save_model

    data = metrics(result)
    out = os.fspath(out)
    with staged_folder(out) as folder:
        save_model(result.model, os.path.join(folder, "model.json"))
        atomic_write(os.path.join(folder, "metrics.json"),
                     lambda f: (json.dump(data, f, indent=2, allow_nan=False), f.write("\n")))
        names = ["model.json", "metrics.json"]
        if pictures:
            from visualize.plots import write_pictures
            names += write_pictures(result, folder)
    return [os.path.join(out, name) for name in names]
