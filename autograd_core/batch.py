"""One sample's graph compiled for a whole mini-batch.

    x1, x2, y = Value(0.0, label="x1"), Value(0.0, label="x2"), Value(0.0, label="y")
    loss = (model([x1, x2]) - y) ** 2                  # the loss of ONE sample
    f = compile(loss, model.parameters(), batch=[x1, x2, y], reduce="mean")
    loss_value, grads = f([p.data for p in model.parameters()], [xs1, xs2, ys])
    print(f.source)

The graph is built once, for one sample, with placeholder leaves where that sample's
data goes. The compiled function takes the parameters' values and one column of values
per placeholder (N samples) and returns the mean (or sum) of the N losses and its
gradient with respect to every parameter, which is the mean (sum) of the N per-sample
gradients.

With numpy installed, each node becomes one numpy operation over all N samples at once,
a layer one matrix product (batch_writer.py writes that code, from the op table's
formulas translated to numpy by array_formulas.py). This module is the compiled object:
its input checks, its call, and the fallback to the per-sample code.

Without numpy the same function loops the ordinary compiled code (compiler.py) over the
samples, so `autograd_core` keeps no dependency outside the standard library; numpy is
imported only when a batch compile asks for it.
"""

from __future__ import annotations

import math

from .array_formulas import runs_over_arrays
from .batch_writer import NumpyWriter
from .compiler import checked_numbers
from .compiler import compile_graph as _compile_graph
from .engine import Value, _check_data, _describe, topological_order, value_sum
from .ops import op_info
from .vocabulary import backend

__all__ = ["compile_batch", "compile_outputs", "BatchCompiledGraph", "REDUCTIONS"]

# The reduce= values: the mean or the sum of the N losses.
REDUCTIONS = (REDUCE_MEAN, REDUCE_SUM) = ("mean", "sum")


def compile_batch(root, params, batch, reduce="mean", watch=()):
    """compile(root, params, batch=[...], reduce=..., watch=[...]): see the module docstring.

    watch: nodes of the graph (a network's outputs, say) whose value for every sample
    each call also records, in `.watched_values` (N lists, one float per watched node).
    """
    return _compile(root, params, batch, reduce, watch, forward_only=False)


def compile_outputs(outputs, params, batch):
    """The forward pass alone of one sample's `outputs` (a list of Values), for N samples
    at once: `f(param_values, columns)` returns N lists, one float per output, with no
    loss and no gradient (a network's predictions over a grid of points, say).

    The same placeholders and parameters as compile(..., batch=...); numpy when
    installed, the per-sample compiled code otherwise.
    """
    if isinstance(outputs, Value) or not hasattr(outputs, "__iter__"):
        raise TypeError(f"compile_outputs: outputs must be a list of Values, got "
                        f"{_describe(outputs)}")
    outputs = list(outputs)
    for i, value in enumerate(outputs):
        if not isinstance(value, Value):
            raise TypeError(f"compile_outputs: outputs[{i}] must be a Value, got "
                            f"{_describe(value)}")
    if not outputs:
        raise ValueError("compile_outputs: no outputs given; give the Values to compute")
    root = value_sum(outputs)  # a root whose graph holds every output; never computed
    return _compile(root, params, batch, REDUCE_SUM, outputs, forward_only=True)


def _compile(root, params, batch, reduce, watch, forward_only):
    if not isinstance(root, Value):
        raise TypeError(f"compile needs a Value as its root (the loss of one sample), "
                        f"got {_describe(root)}")
    if reduce not in REDUCTIONS:
        raise ValueError(f"compile: reduce must be {' or '.join(map(repr, REDUCTIONS))}, "
                         f"got {reduce!r}")
    params = _leaf_list(params, "params")
    batch = _leaf_list(batch, "batch")
    if not batch:
        raise ValueError("compile: batch=[] has no placeholders; give the leaf Values that "
                         "stand for one sample's data, or call compile without batch=")
    order = topological_order(root)
    in_graph = {id(node) for node in order}
    param_ids = {id(p) for p in params}
    for i, value in enumerate(batch):
        if id(value) in param_ids:
            raise ValueError(f"compile: batch[{i}] ({value.label!r}) is also in params; a "
                             "leaf is either a parameter or a placeholder for data")
    for what, values in (("params", params), ("batch", batch)):
        for i, value in enumerate(values):
            if id(value) not in in_graph:
                raise ValueError(f"compile: {what}[{i}] ({value.label!r}) is not part of the "
                                 "graph of this loss")
    if isinstance(watch, Value) or not hasattr(watch, "__iter__"):
        raise TypeError(f"compile: watch must be a list of Values, got {_describe(watch)}")
    watch = list(watch)
    for i, value in enumerate(watch):
        if not isinstance(value, Value) or id(value) not in in_graph:
            raise ValueError(f"compile: watch[{i}] must be a Value of this graph, "
                             f"got {_describe(value)}")
    for node in order:
        if node.parents:
            op_info(node.op)  # an unknown operation fails here, clearly
    try:
        import numpy
    except ImportError:
        numpy = None
    vocabulary = backend("numpy") if numpy is not None else {}
    if numpy is not None and not all(runs_over_arrays(op, vocabulary)
                                     for op in {node.op for node in order if node.parents}):
        numpy = None  # an op declared with Python functions runs sample by sample
    return BatchCompiledGraph(root, params, batch, reduce, order, numpy, watch, forward_only)


def _leaf_list(values, what):
    if isinstance(values, Value) or not hasattr(values, "__iter__"):
        raise TypeError(f"compile: {what} must be a list of leaf Values, got {_describe(values)}")
    values = list(values)
    seen = set()
    for i, value in enumerate(values):
        if not isinstance(value, Value):
            raise TypeError(f"compile: {what}[{i}] must be a Value, got {_describe(value)}")
        if value.parents:
            raise ValueError(f"compile: {what}[{i}] ({value.label!r}) is computed by "
                             f"'{value.op}', not a leaf; give the leaf Values themselves")
        if id(value) in seen:
            raise ValueError(f"compile: {what}[{i}] ({value.label!r}) is given twice")
        seen.add(id(value))
    return values


class BatchCompiledGraph:
    """The loss of one sample compiled for N samples at once.

    `f(param_values, columns)`: one float per parameter (in the order given to compile)
    and one sequence of N values per placeholder; returns (reduced loss, [d reduced loss
    / d parameter]) as floats. `.source` is the generated code; `.uses_numpy` says which
    form runs. With watch=[nodes], `.watched_values` holds, after each call, one list per
    sample of the watched nodes' values (`.watched_array`: the same as an N x k numpy
    array, None without numpy). Made by compile_outputs, `f(param_values, columns)`
    returns those N lists itself (forward only: no loss, no gradients).
    """

    def __init__(self, root, params, batch, reduce, order, numpy, watch=(), forward_only=False):
        self.params, self.batch, self.reduce = tuple(params), tuple(batch), reduce
        self.watch, self.forward_only = tuple(watch), forward_only
        self.uses_numpy = numpy is not None
        self._root, self._order, self._np = root, order, numpy
        self._scalar = None  # the per-sample compiled graph, made when first needed
        self._watched = None  # the latest call's watched values: an array or N lists
        if numpy is None:
            self.source = _scalar_header(reduce) + self._scalar_graph().source
        else:
            self.source, namespace = NumpyWriter(root, params, batch, reduce, order,
                                                 numpy, self.watch, forward_only).write()
            exec(compile(self.source, "<autograd_core.compile batch>", "exec"), namespace)
            self._function = namespace["forward_backward"]

    def __repr__(self):
        return (f"BatchCompiledGraph({len(self.params)} params, {len(self.batch)} placeholders, "
                f"reduce={self.reduce!r}, {'numpy' if self.uses_numpy else 'no numpy'})")

    def __call__(self, param_values, columns):
        result = self._run(param_values, columns)
        return self.watched_values if self.forward_only else result

    def as_arrays(self, param_values, columns):
        """The call, answered in numpy arrays without making lists: the N x k array of
        the watched values (compile_outputs), else (loss, gradients array, that array or
        None). Needs numpy."""
        if self._np is None:
            raise RuntimeError("compiled batch: as_arrays() needs numpy; call the function "
                               "itself for lists")
        result = self._run(param_values, columns)
        watched = self.watched_array
        if self.forward_only:
            return watched
        return result[0], self._np.asarray(result[1]), watched

    @property
    def watched_values(self):
        """One list per sample of the watched nodes' values, from the latest call."""
        if self._watched is None:
            return []
        if not isinstance(self._watched, list):
            self._watched = self._watched.tolist()
        return self._watched

    @property
    def watched_array(self):
        """The latest call's watched values as an N x k numpy array (None without numpy)."""
        if self._np is None or self._watched is None:
            return None
        return self._np.asarray(self._watched, dtype=self._np.float64)

    def _run(self, param_values, columns):
        if self._np is None:
            values = self._check_params(param_values)
            return self._loop(values, self._check_columns(columns))
        np = self._np
        values = self._numpy_params(param_values)
        arrays = self._numpy_columns(columns)
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                if self.forward_only:
                    watched = self._function(values, *arrays)
                    if not np.isfinite(watched).all():
                        return self._fallback(values.tolist(), arrays, None)
                    self._watched = watched
                    return None
                if self.watch:
                    loss, grads, watched = self._function(values, *arrays)
                else:
                    loss, grads = self._function(values, *arrays)
                    watched = None
        except (ArithmeticError, ValueError) as error:
            return self._fallback(values.tolist(), arrays, error)
        loss = float(loss)
        if loss - loss != 0.0 or not np.isfinite(grads).all() or \
                (watched is not None and not np.isfinite(watched).all()):
            return self._fallback(values.tolist(), arrays, None)
        self._watched = watched
        return loss, grads.tolist()

    # --------------------------------------------------------------- checking input
    def _names(self, i):
        return self.batch[i].label or f"placeholder {i}"

    def _check_params(self, param_values):
        if isinstance(param_values, (str, bytes)) or not hasattr(param_values, "__len__"):
            raise TypeError(f"compiled batch: give a list of {len(self.params)} parameter "
                            f"values first, got {_describe(param_values)}")
        values = list(param_values)
        if len(values) != len(self.params):
            raise ValueError(f"compiled batch: expected {len(self.params)} parameter values "
                             f"(one per parameter given to compile), got {len(values)}")
        return checked_numbers(values, self.params, "compiled batch: parameter")

    def _column_list(self, columns):
        if isinstance(columns, (str, bytes)) or not hasattr(columns, "__len__"):
            raise TypeError(f"compiled batch: give {len(self.batch)} columns (one sequence of "
                            f"values per placeholder), got {_describe(columns)}")
        columns = list(columns)
        if len(columns) != len(self.batch):
            shown = ", ".join(self._names(i) for i in range(len(self.batch)))
            raise ValueError(f"compiled batch: expected {len(self.batch)} columns, one per "
                             f"placeholder ({shown}), got {len(columns)}")
        for i, column in enumerate(columns):
            if isinstance(column, (str, bytes)) or not hasattr(column, "__len__"):
                raise TypeError(f"compiled batch: column {i} ({self._names(i)}) must be a "
                                f"sequence of numbers, got {_describe(column)}")
        sizes = [len(column) for column in columns]
        for i, size in enumerate(sizes):
            if size != sizes[0]:
                raise ValueError(f"compiled batch: column {i} ({self._names(i)}) has {size} "
                                 f"values but column 0 ({self._names(0)}) has {sizes[0]}; "
                                 "every column needs one value per sample")
        if sizes[0] == 0:
            raise ValueError("compiled batch: the columns are empty; a batch needs at least "
                             "one sample")
        return columns

    def _check_columns(self, columns):
        checked = []
        for i, column in enumerate(self._column_list(columns)):
            column = list(column)
            for n, x in enumerate(column):
                if type(x) is not float or x - x != 0.0:
                    column[n] = _check_data(x, f"compiled batch: column {i} "
                                               f"({self._names(i)}), row {n},")
            checked.append(column)
        return checked

    def _numpy_params(self, param_values):
        np = self._np
        if isinstance(param_values, list) and len(param_values) == len(self.params) and \
                set(map(type, param_values)) == {float}:
            param_values = np.array(param_values, dtype=np.float64)  # floats: checked below
        if isinstance(param_values, np.ndarray) and param_values.dtype == np.float64 \
                and param_values.shape == (len(self.params),) \
                and np.isfinite(param_values).all():
            return param_values
        return np.array(self._check_params(param_values), dtype=np.float64)

    def _numpy_columns(self, columns):
        np = self._np
        arrays = []
        finite_bases = {}  # columns that are views of one array (a batch's X.T): checked once
        for i, column in enumerate(self._column_list(columns)):
            if isinstance(column, np.ndarray) and column.dtype == np.float64 and \
                    column.ndim == 1 and isinstance(column.base, np.ndarray):
                base = column.base
                if id(base) not in finite_bases:
                    finite_bases[id(base)] = bool(np.isfinite(base).all())
                if finite_bases[id(base)]:
                    arrays.append(column)
                    continue
            if not (isinstance(column, np.ndarray) and column.dtype == np.float64
                    and column.ndim == 1):
                try:
                    column = np.array(column, dtype=np.float64)
                except (TypeError, ValueError):
                    column = np.array(self._check_columns_one(i, column), dtype=np.float64)
                if column.ndim != 1:
                    raise ValueError(f"compiled batch: column {i} ({self._names(i)}) must hold "
                                     f"one number per sample, got an array of shape "
                                     f"{column.shape}")
            finite = np.isfinite(column)
            if not finite.all():
                n = int(np.argmin(finite))
                raise ValueError(f"compiled batch: column {i} ({self._names(i)}), row {n}, "
                                 f"is {float(column[n])!r}; every value must be a finite "
                                 "number: fix or drop that sample")
            arrays.append(column)
        return arrays

    def _check_columns_one(self, i, column):
        out = []
        for n, x in enumerate(column):
            out.append(_check_data(x, f"compiled batch: column {i} ({self._names(i)}), "
                                      f"row {n},"))
        return out

    # ------------------------------------------------------- the per-sample form
    def _scalar_graph(self):
        if self._scalar is None:
            self._scalar = _compile_graph(self._root, list(self.params) + list(self.batch),
                                          watch=self.watch)
        return self._scalar

    def _loop(self, values, columns):
        """The compiled one-sample code once per sample; sums exactly rounded (fsum)."""
        graph = self._scalar_graph()
        k = len(self.params)
        losses, per_sample, watched = [], [], []
        for n, row in enumerate(zip(*columns)):
            try:
                loss, grads = graph(values + list(row))
            except (ArithmeticError, ValueError) as error:
                raise type(error)(f"compiled batch: sample {n}: {error}") from None
            if self.watch:
                watched.append(list(graph.watched_values))
            losses.append(loss)
            per_sample.append(grads[:k])
        self._watched = watched if self.watch else None
        if self.forward_only:
            return None
        count = len(losses)
        loss = math.fsum(losses)
        grads = [math.fsum(g) for g in zip(*per_sample)] if per_sample else [0.0] * k
        if self.reduce == REDUCE_MEAN:
            loss, grads = loss / count, [g / count for g in grads]
        if loss - loss != 0.0 or any(g - g != 0.0 for g in grads):
            raise OverflowError("compiled batch: the summed loss or a summed gradient is "
                                "too large for a float; rescale the data or use reduce='mean'")
        return loss, grads

    def _fallback(self, values, arrays, error):
        """numpy met an overflow, a division by zero or a value outside an operation's
        domain somewhere in the batch: find the sample with the per-sample code, which
        raises the engine's own error for it. If every sample is fine (numpy computes
        both branches of a where(), and one it did not need can fail), its numbers are
        the answer."""
        return self._loop(values, [column.tolist() for column in arrays])


def _scalar_header(reduce):
    how = "then divided by N" if reduce == "mean" else "not divided"
    return ("# No numpy: the one-sample code below runs once per sample; the losses and each\n"
            "# parameter's gradients are summed over the N samples (math.fsum), " + how + ".\n")
