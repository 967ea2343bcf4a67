"""Step functions: one gradient step's calculus, `step(X, y) -> (loss, outputs)`, which
leaves d loss / d p in `p.grad` for every parameter p.

`batch_step` (the Trainer's default) compiles the graph of one example once and runs it
over each batch with numpy (autograd_core's batch compile); `engine_step` builds every
example's graph with the engine and calls `backward()` (the reference: the same numbers
to 1e-12 relative); `compiled_step` replays one batch's whole graph as straight-line
Python. `batch_predictor(model)` is the network alone over many points at once, and
`BatchLoss` the batch compile of a model's loss that the step and evaluation share.
"""

from __future__ import annotations

from autograd_core import Value, compile as compile_graph, paused_gc

from .loss_table import LOSS_TABLE, LOSSES

__all__ = ["engine_step", "compiled_step", "batch_step", "batch_predictor", "BatchLoss",
           "STEPS", "as_predictions"]


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
def _numpy_of(function):
    """numpy when this batch compile runs on it, else None."""
    if not function.uses_numpy:
        return None
    import numpy
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
    np = _numpy_of(function)

    def predictor(points):
        rows = function([p.data for p in params], _Points(points, nin, np).columns)
        return rows if loss_name is None else as_predictions(rows, loss_name)

    def arrays(points):
        if np is None:
            raise RuntimeError("batch_predictor: arrays() needs numpy; call the predictor "
                               "itself for lists")
        return function.as_arrays([p.data for p in params], _Points(points, nin, np).columns)

    predictor.uses_numpy = np is not None
    predictor.arrays = arrays
    predictor.source = function.source
    return predictor


def as_predictions(outs, loss_name):
    """The network's raw outputs (lists of floats per point) as predict gives them: the
    loss row's `probabilities` (sigmoid of bce's logit, softmax of ce's), else as they
    are."""
    loss = LOSS_TABLE.get(loss_name)
    if loss is None or loss.probabilities is None:
        return outs
    return [loss.probabilities(z) for z in outs]


class BatchLoss:
    """A model's mean loss over a batch, its gradients and the outputs per example, from
    one compile of one sample's graph (autograd_core's batch compile)."""

    def __init__(self, model, loss_name):
        self.params = model.parameters()
        self.loss_name = loss_name
        # a class-index target feeds the graph one-hot, with the log-sum-exp shift
        self.one_hot = LOSSES[loss_name].class_index
        nin = _nin(model)
        inputs = _placeholders(nin, "x")
        with paused_gc():
            outputs = _one_sample_outputs(model, inputs)
            self.width = len(outputs)
            if self.one_hot:
                targets = _placeholders(self.width, "t") + [Value(0.0, label="shift")]
            else:
                targets = [Value(0.0, label="t")]
            loss = LOSSES[loss_name].one_sample(outputs, targets)
            self.function = compile_graph(loss, self.params, batch=inputs + targets,
                                          reduce="mean", watch=outputs)
        self.np = _numpy_of(self.function)
        self.nin = nin
        # cross-entropy's shift is each sample's largest logit, known only after a
        # forward pass: the outputs' own compile
        self.logits = None
        if self.one_hot:
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
            if self.one_hot:
                shift = self.logits.as_arrays(values, batch.columns).max(axis=1)
                onehot = (y[:, None] == np.arange(self.width)).astype(np.float64)
                targets = list(onehot.T) + [shift]
            else:
                targets = [y]
        else:
            y = [float(t) for t in y]
            if self.one_hot:
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
    `engine_step` to rounding (1e-12 relative; tests/nn/test_train_batch.py).

    X may be a list of examples or an N x nin numpy array, y a list or array; the
    outputs it returns are an N x k numpy array with numpy, else N lists.
    """
    compiled = BatchLoss(model, loss_name)
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
