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

With numpy installed, each node becomes one numpy operation over all N samples at once:
its value for sample n is row n of an array. The forward formulas and local derivatives
are the op table's own text (ops.py), read here and evaluated over arrays: nothing about
any operation is written twice. Where the graph has a layer's shape (several `wsum`
nodes over the same inputs, with parameters as weights and biases) their weighted sums
become one matrix product, and the backward pass through that layer becomes the two
Jacobian products of the textbook mini-batch derivation:
    d inputs = d net @ W        (d net / d x = W, one row per sample)
    d W      = d net.T @ X      (d net / d W = x, summed over the samples)
A unary operation applied to every column of such a matrix (the layer's activation), or
an operation applied to every parameter (an L2 penalty's p * p), also becomes one array
operation. Everything else is one operation on a column.

Without numpy the same function loops the ordinary compiled code (compiler.py) over the
samples, so `autograd_core` keeps no dependency outside the standard library; numpy is
imported only when a batch compile asks for it.
"""

from __future__ import annotations

import ast
import functools
import math

from .compiler import _STEMS, _literal, _Names, checked_numbers
from .compiler import compile as _compile_graph
from .engine import Value, _check_data, _describe, topological_order, value_sum
from .ops import exponent_of, local_formula, op_info
from .ops import sigmoid as _float_sigmoid

__all__ = ["compile_batch", "compile_outputs", "BatchCompiledGraph", "REDUCTIONS"]

REDUCTIONS = ("mean", "sum")

HEADER = """\
# A mini-batch as array operations, written by autograd_core.compile(..., batch=...).
# The graph of ONE sample, run for all N samples at once: every value below is an
# array with one row per sample (a column per neuron for a layer); P holds the
# parameters and dP their gradients. The formulas are the op table's.
# Forward, for a layer: net = X @ W.T + b  (row n: sample n's w . x + b per neuron).
# Backward: d_v is d loss / d v, one row per sample; through a layer it is the product
# of Jacobians, d X = d net @ W, and the parameters' share is summed over the samples,
# d W = d net.T @ X, d b = the column sums of d net. That is all a mini-batch adds.
# (netK_W_at, netK_b_at: where layer K's weights and biases sit in P.)
"""


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
    return _compile(root, params, batch, "sum", outputs, forward_only=True)


def _compile(root, params, batch, reduce, watch, forward_only):
    if not isinstance(root, Value):
        raise TypeError(f"compile needs a Value as its root (the loss of one sample), "
                        f"got {_describe(root)}")
    if reduce not in REDUCTIONS:
        raise ValueError(f"compile: reduce must be 'mean' or 'sum', got {reduce!r}")
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
    if numpy is not None and not all(map(_as_arrays, {node.op for node in order if node.parents})):
        numpy = None  # an op declared with Python functions runs sample by sample
    return BatchCompiledGraph(root, params, batch, reduce, order, numpy, watch, forward_only)


_ARRAY_NAMES = frozenset({"a", "b", "out", "n", "where", "exp", "log", "tanh", "sin", "cos",
                          "sqrt", "abs", "sigmoid", "softplus", "relu"})


def _as_arrays(op_name):
    """Whether the op's declaration is formula text this module can run over arrays
    (a user's op declared with Python functions is not)."""
    info = op_info(op_name)
    if info.name in ("wsum", "sum"):
        return True
    texts = (info.forward,) + tuple(info.derivatives)
    if not all(isinstance(text, str) for text in texts):
        return False
    names = {node.id for text in texts for node in ast.walk(_parsed(text))
             if isinstance(node, ast.Name)}
    return names <= _ARRAY_NAMES


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
            self.source, namespace = _NumpyWriter(root, params, batch, reduce, order,
                                                  numpy, self.watch, forward_only).write()
            exec(_builtin_compile(self.source, "<autograd_core.compile batch>", "exec"),
                 namespace)
            self._function = namespace["forward_backward"]
            _keep_freed_memory()

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
        if self.reduce == "mean":
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


_builtin_compile = compile

# glibc's malloc gives each freed array of more than a few hundred KB back to the system
# and takes it again, page by page, on the next step: a batch of 10,000 rows frees some
# 25 MB of temporaries per step, and re-faulting them cost as much system time as the
# step's arithmetic in the benchmark. Asking malloc (once per process, when the first
# numpy batch graph is compiled) to keep up to this much freed memory for reuse makes
# that system time vanish. It is process-wide and glibc-only; elsewhere it is skipped.
KEEP_FREED_BYTES = 256 * 2 ** 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_malloc_tuned = []


def _keep_freed_memory():
    if _malloc_tuned:
        return
    _malloc_tuned.append(True)
    try:
        import os
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return
        import ctypes
        mallopt = ctypes.CDLL(None).mallopt
        mallopt(_M_MMAP_THRESHOLD, 32 * 2 ** 20)  # glibc's largest: bigger arrays still map
        mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES)
    except (OSError, AttributeError, ImportError, ValueError):
        pass  # no glibc (macOS, musl, Windows): nothing to tune


def _scalar_header(reduce):
    how = "then divided by N" if reduce == "mean" else "not divided"
    return ("# No numpy: the one-sample code below runs once per sample; the losses and each\n"
            "# parameter's gradients are summed over the N samples (math.fsum), " + how + ".\n")


# ------------------------------------------------------------------- the numpy form

def _np_namespace(np):
    """The op table's vocabulary over arrays, plus what the generated code calls.

    Each function gives the same number as its float meaning in ops.py to within a few
    units in the last place, written for speed over whole arrays (numpy's own where()
    and a branch-free stable sigmoid cost several passes over the data each).
    """
    def where(condition, x, y):
        if np.ndim(condition) == 0:  # the parameters' own values are scalars
            return x if condition else y
        # x * 1 + y * 0 is exactly x (and x * 0 + y * 1 exactly y) for finite values;
        # an inf or nan in the branch not taken raises under the caller's errstate and
        # the per-sample code then decides (BatchCompiledGraph._fallback).
        out = np.multiply(condition, x, dtype=np.float64)
        if np.ndim(y) == 0 and y == 0:
            if np.ndim(x) or x < 0:
                out += 0.0  # -0.0 from x * 0 becomes 0.0, as where() gives
        else:
            out += np.multiply(~condition, y, dtype=np.float64)
        return out

    def sigmoid(x):
        if np.ndim(x) == 0:
            return _float_sigmoid(x)
        # 1 / (1 + exp(-x)) is within 2 ulp of ops.sigmoid everywhere; exp(-x) may
        # overflow to inf for x < -709, and 1 / inf is the right limit 0.
        e = np.negative(x)
        with np.errstate(over="ignore"):
            np.exp(e, out=e)
        e += 1.0
        return np.reciprocal(e, out=e)

    def softplus(x):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))

    def relu(x):
        return np.maximum(x, 0.0)

    def total(*terms):
        out = terms[0]
        for term in terms[1:]:
            out = out + term
        return out

    return {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sin": np.sin, "cos": np.cos,
            "sqrt": np.sqrt, "abs": np.abs, "sigmoid": sigmoid, "softplus": softplus,
            "relu": relu, "where": where, "maximum": np.maximum, "stack": np.stack, "zeros": np.zeros,
            "zeros_like": np.zeros_like, "full": np.full, "add_at": np.add.at,
            "total": total}


class _ToArrays(ast.NodeTransformer):
    """Formula text -> numpy source: operand names become the given source text, a
    condition or arithmetic on numbers alone is worked out here (so `where(2 == 0, 0,
    2 * a ** (2 - 1))` for a square reads `2 * a ** 1`), and Python's `x if c else y`
    (an older table's spelling) becomes where(c, x, y)."""

    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names:
            return ast.parse(self.names[node.id], mode="eval").body
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        return self._where(node.test, node.body, node.orelse)

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "where" and len(node.args) == 3:
            return self._where(*node.args)
        return node

    def _where(self, test, body, orelse):
        known = _number(test)
        if known is not None:
            return body if known else orelse
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
                isinstance(test.ops[0], (ast.Gt, ast.GtE)) and _number(test.comparators[0]) == 0 \
                and _number(orelse) == 0 and ast.dump(test.left) == ast.dump(body):
            # where(x > 0, x, 0) is max(x, 0): one pass over the array instead of three
            return ast.Call(func=ast.Name(id="maximum", ctx=ast.Load()),
                            args=[body, ast.Constant(0.0)], keywords=[])
        return ast.Call(func=ast.Name(id="where", ctx=ast.Load()), args=[test, body, orelse],
                        keywords=[])

    def visit_BinOp(self, node):
        return self._fold(self.generic_visit(node))

    def visit_UnaryOp(self, node):
        return self._fold(self.generic_visit(node))

    def visit_Compare(self, node):
        return self._fold(self.generic_visit(node))

    @staticmethod
    def _fold(node):
        value = _number(node)
        if value is None or isinstance(node, ast.UnaryOp) and _number(node.operand) is not None \
                and value < 0:
            return node  # -1 stays a negation, which unparse parenthesises where needed
        if isinstance(value, bool):
            return ast.Constant(value)
        if value < 0:
            return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
        return ast.Constant(value)


def _number(node):
    """The value of an expression of numbers alone, else None."""
    for part in ast.walk(node):
        if not isinstance(part, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.Compare,
                                 ast.operator, ast.unaryop, ast.cmpop, ast.expr_context)):
            return None
        if isinstance(part, ast.Constant) and not isinstance(part.value, (int, float)):
            return None
    try:
        value = eval(_builtin_compile(ast.Expression(body=node), "<fold>", "eval"),  # noqa: S307
                     {"__builtins__": {}})
    except (ArithmeticError, ValueError, TypeError):
        return None
    return value if isinstance(value, (int, float)) and value == value else None


@functools.lru_cache(maxsize=None)
def _parsed(text):
    return ast.parse(text, mode="eval").body


@functools.lru_cache(maxsize=4096)
def _array_source_cached(text, names):
    tree = _ToArrays(dict(names)).visit(ast.parse(text, mode="eval").body)
    return ast.unparse(ast.fix_missing_locations(tree))


def _array_source(text, names):
    """The formula as numpy source, each operand replaced by the given source text."""
    return _array_source_cached(text, tuple(sorted(names.items())))


def _is_atomic(text):
    """True when text needs no parentheses as an operand: a name, a positive number,
    an index or a call."""
    return isinstance(ast.parse(text, mode="eval").body,
                      (ast.Name, ast.Constant, ast.Subscript, ast.Call, ast.Attribute))


def _count(k, one, many=None):
    return f"{k} {one if k == 1 else many or one + 's'}"


def _fusable_wsum():
    """The layer form below is wsum's declared derivatives laid out as matrices; use it
    only while the table says d/dw_i = x_i, d/dx_i = w_i, d/db = 1."""
    return (local_formula("wsum", 0, 3)[1] == "x_1" and local_formula("wsum", 1, 3)[1] == "w_1"
            and local_formula("wsum", 2, 3)[1] == "1")


class _Group:
    """Nodes computed together as one array, one column per member (a layer's neurons,
    an activation applied to each of them, or one operation applied to every parameter)."""

    def __init__(self, name, members, kind, how):
        self.name, self.members, self.kind, self.how = name, members, kind, how
        self.slots = None   # map: per operand, "G" (the source group's column) or a literal
        self.source = None  # map: the group it maps over
        self.x = None       # layer: ("group", G, indices) or ("stack", [nodes])
        self.w_at = self.b_at = None  # layer: positions of W and b in the parameter list

    def column(self, j):
        return f"{self.name}[:, {j}]" if self.kind == "batch" else f"{self.name}[{j}]"


class _NumpyWriter:
    def __init__(self, root, params, batch, reduce, order, np, watch=(), forward_only=False):
        self.root, self.params, self.batch, self.reduce = root, params, batch, reduce
        self.order, self.np = order, np
        self.watch, self.forward_only = watch, forward_only
        self.names = _Names()
        self.names.taken.update(set(_np_namespace(np)) | {"P", "dP", "N", "forward_backward",
                                                          "watched"})
        # No builtins for the generated code, except the import numpy itself may do lazily
        # from inside a call (its matmul does on first use).
        self.namespace = dict(_np_namespace(np), __builtins__={"__import__": __import__})
        self.param_at = {id(p): i for i, p in enumerate(params)}
        self.kind, self.wants = {}, {}
        batch_ids = {id(v) for v in batch}
        for node in order:
            key = id(node)
            if not node.parents:
                self.kind[key] = ("param" if key in self.param_at else
                                  "batch" if key in batch_ids else "const")
                self.wants[key] = key in self.param_at
            else:
                kinds = {self.kind[id(p)] for p in node.parents}
                self.kind[key] = ("batch" if "batch" in kinds else
                                  "param" if "param" in kinds else "const")
                self.wants[key] = any(self.wants[id(p)] for p in node.parents)
        self.consumers = {}
        for node in order:
            for parent in node.parents:
                users = self.consumers.setdefault(id(parent), [])
                if not users or users[-1] is not node:
                    users.append(node)
        self.group_of = {}    # id(node) -> (group, column)
        self.groups = []
        self.expression = {}  # id(node) -> source of its value

    # ----------------------------------------------------------------- grouping
    def _add_group(self, group):
        self.groups.append(group)
        for j, node in enumerate(group.members):
            self.group_of[id(node)] = (group, j)

    def _find_groups(self):
        params_group = _Group("P", list(self.params), "param", "params")
        self._add_group(params_group)
        if _fusable_wsum():
            layers = {}
            for node in self.order:
                if node.op != "wsum" or self.kind[id(node)] != "batch":
                    continue
                k = (len(node.parents) - 1) // 2
                ws, xs, b = node.parents[:k], node.parents[k:2 * k], node.parents[-1]
                if all(id(w) in self.param_at for w in ws) and id(b) in self.param_at and \
                        all(self.kind[id(x)] == "batch" for x in xs):
                    layers.setdefault(tuple(map(id, xs)), []).append(node)
            for number, members in enumerate(layers.values(), 1):
                # neuron order (their biases' order among the parameters) is the order
                # in which the next layer lists them as inputs
                members.sort(key=lambda node: self.param_at[id(node.parents[-1])])
                group = _Group(self.names.new(f"net{number}", "net"), members, "batch", "layer")
                k = (len(members[0].parents) - 1) // 2
                group.w_at = [[self.param_at[id(w)] for w in m.parents[:k]] for m in members]
                group.b_at = [self.param_at[id(m.parents[-1])] for m in members]
                group.number = number
                self._add_group(group)
        pending = list(self.groups)
        while pending:
            source = pending.pop(0)
            for group in self._maps_over(source):
                self._add_group(group)
                pending.append(group)

    def _maps_over(self, source):
        """Groups of nodes that apply one operation to each column of `source`."""
        candidates = {}
        for j, member in enumerate(source.members):
            for user in self.consumers.get(id(member), ()):
                if id(user) in self.group_of or op_info(user.op).name in ("wsum", "sum"):
                    continue
                slots = []
                for parent in user.parents:
                    if parent is member:
                        slots.append("G")
                    elif self.kind[id(parent)] == "const":
                        slots.append(_literal(parent.data))
                    else:
                        break
                else:
                    candidates.setdefault((user.op, tuple(slots)), {}).setdefault(j, []).append(user)
        groups = []
        taken = set()
        for (op_name, slots), by_column in candidates.items():
            if len(by_column) != len(source.members) or \
                    any(len(users) != 1 for users in by_column.values()):
                continue
            members = [by_column[j][0] for j in range(len(source.members))]
            if any(id(m) in taken for m in members):
                continue
            taken.update(map(id, members))
            stem = _stem(op_name)
            number = getattr(source, "number", None)
            group = _Group(self.names.new(f"{stem}{number}" if number else "", stem), members,
                           source.kind, "map")
            group.slots, group.source, group.number = slots, source, number
            groups.append(group)
        return groups

    # -------------------------------------------------------------- expressions
    def _value(self, node):
        key = id(node)
        if key in self.expression:
            return self.expression[key]
        if key in self.group_of:
            group, j = self.group_of[key]
            return group.column(j)
        return _literal(node.data)  # a constant

    def write(self):
        np = self.np
        self._find_groups()
        for group in self.groups:  # unlabelled single nodes are numbered after the groups
            stem = _stem(group.members[0].op) if group.how == "map" else None
            if stem and getattr(group, "number", None):
                self.names.counts[stem] = max(self.names.counts.get(stem, 0), group.number)
        for value in self.batch:
            self.expression[id(value)] = self.names.new(value.label, "x")
        forward = []
        blocks = []  # in forward order: a node or a group
        for node in self.order:
            key = id(node)
            kind = self.kind[key]
            if not node.parents or kind == "const" or (self.forward_only and node is self.root):
                continue
            if key in self.group_of:
                group, _ = self.group_of[key]
                if group.how == "params" or group in blocks:
                    continue
                blocks.append(group)
                forward += self._group_forward(group)
                continue
            name = self.names.new(node.label, _stem(node.op))
            forward.append(f"{name} = {self._node_forward(node)}")
            self.expression[key] = name
            blocks.append(node)
        lines = [HEADER]
        for group in self.groups:
            if group.how == "layer":
                self.namespace[f"{group.name}_W_at"] = np.array(group.w_at, dtype=np.intp)
                self.namespace[f"{group.name}_b_at"] = np.array(group.b_at, dtype=np.intp)
        placeholders = ", ".join(self.expression[id(v)] for v in self.batch)
        lines.append(f"def forward_backward(P, {placeholders}):")
        body = [f"N = {self.expression[id(self.batch[0])]}.shape[0]  # samples",
                "# forward"] + forward
        if self.watch:
            body += self._watched()
        if self.forward_only:
            body.append("return watched")
        else:
            body += self._backward(blocks)
            if self.watch:
                body[-1] += ", watched"
        lines += ["    " + line if line else "" for line in body]
        return "\n".join(lines) + "\n", self.namespace

    def _watched(self):
        """watched = the watched nodes' values, N x k: a group's own array when they are
        that group's columns in order, else the columns stacked."""
        first = self.group_of.get(id(self.watch[0]))
        if first is not None and first[0].kind == "batch" and \
                [id(m) for m in first[0].members] == [id(w) for w in self.watch]:
            return [f"watched = {first[0].name}  # N x {len(self.watch)}: what watch= asked for"]
        columns = []
        for node in self.watch:
            value = self._value(node)
            columns.append(value if self.kind[id(node)] == "batch" else f"full(N, {value})")
        listed = ", ".join(columns) + ("," if len(columns) == 1 else "")
        return [f"watched = stack(({listed}), axis=1)  # N x {len(columns)}: what watch= "
                "asked for"]

    def _group_forward(self, group):
        if group.how == "layer":
            m, k = len(group.members), len(group.w_at[0])
            x_name, lines = self._layer_input(group)
            w, b = self._weights(group)
            lines += [f"# layer {group.number}: {_count(m, 'neuron')} over {_count(k, 'input')}, "
                      "each w . x + b, for all N samples at once",
                      f"{w}, {b} = P[{group.name}_W_at], P[{group.name}_b_at]"
                      f"  # {m} x {k} weights, {_count(m, 'bias', 'biases')}",
                      f"{group.name} = {x_name} @ {w}.T  # N x {m}: sample n's w . x in row n",
                      f"{group.name} += {b}"]
            return lines
        names = {"out": group.name}
        names.update(zip("ab", (group.source.name if s == "G" else s for s in group.slots)))
        return [f"{group.name} = {self._formula_forward(group.members[0], names)}"]

    def _weights(self, group):
        return f"W{group.number}", f"b{group.number}"

    def _layer_input(self, group):
        """The layer's inputs as an N x k matrix: columns of one group, or stacked."""
        k = len(group.w_at[0])
        xs = group.members[0].parents[k:2 * k]
        owners = {self.group_of.get(id(x), (None, None))[0] for x in xs}
        if len(owners) == 1 and None not in owners:
            source = owners.pop()
            if source.kind == "batch":
                columns = [self.group_of[id(x)][1] for x in xs]
                group.x = ("group", source, columns)
                if columns == list(range(len(source.members))):
                    return source.name, []
                at = f"{group.name}_x_at"
                self.namespace[at] = self.np.array(columns, dtype=self.np.intp)
                name = f"X{group.number}"
                self.names.taken.update((name, "d_" + name))
                return name, [f"{name} = {source.name}[:, {at}]"]
        group.x = ("stack", list(xs))
        name = f"X{group.number}"
        self.names.taken.update((name, "d_" + name))
        columns = ", ".join(self._value(x) for x in xs) + ("," if len(xs) == 1 else "")
        return name, [f"{name} = stack(({columns}), axis=1)  # N x {k}"]

    def _node_forward(self, node):
        info = op_info(node.op)
        parents = [self._value(p) for p in node.parents]
        if info.name == "wsum":
            k = (len(parents) - 1) // 2
            products = [_array_source("w_i * x_i", {"w_i": w, "x_i": x})
                        for w, x in zip(parents[:k], parents[k:2 * k])]
            return f"total({', '.join(products)}, {parents[-1]})"
        if info.name == "sum":
            owner = self._whole_group(node)
            if owner is not None:
                return f"{owner.name}.sum(axis=-1)"
            return f"total({', '.join(parents)})"
        return self._formula_forward(node, dict(zip("ab", parents)))

    def _formula_forward(self, node, names):
        info = op_info(node.op)
        if info.name == "**n":
            names["n"] = _literal(exponent_of(node.op))
        return _array_source(info.forward, names)

    def _whole_group(self, node):
        """The group whose members are exactly this sum node's terms, if there is one."""
        first = self.group_of.get(id(node.parents[0]))
        if first is None:
            return None
        group = first[0]
        if len(node.parents) == len(group.members) and \
                {id(p) for p in node.parents} == {id(m) for m in group.members}:
            return group
        return None

    # ----------------------------------------------------------------- backward
    def _backward(self, blocks):
        self.records = []
        self.live = set()      # the d_ of these nodes/groups received something
        self.contributions = {}  # id(group) -> its "matrix" and "column" records
        self.allocated = {}    # id(group) -> d_group starts as zeros (else: assigned once)
        self.full = {}         # id(group) -> d_group has the group's full shape
        root = self.root
        rkind = self.kind[id(root)]
        value = self._value(root)
        scale = "1 / N" if self.reduce == "mean" else "1.0"
        if rkind == "batch":
            loss = f"{value}.sum() / N" if self.reduce == "mean" else f"{value}.sum()"
            self._contribute(root, f"full(N, {scale})", full=True)
        elif rkind == "param":
            loss = value if self.reduce == "mean" else f"N * {value}"
            self._contribute(root, "1.0" if self.reduce == "mean" else "N", full=True)
        else:
            loss = value if self.reduce == "mean" else f"N * {value}"
        for block in reversed(blocks):
            if isinstance(block, _Group):
                self._group_backward(block)
            else:
                self._node_backward(block)
        return self._render(loss)

    def _d(self, thing):
        if isinstance(thing, _Group):
            return "dP" if thing.how == "params" else "d_" + thing.name
        return "d_" + self.expression[id(thing)]

    def _contribute(self, node, term, full, reduce_from=None):
        """Record d_node += term (a column of a group for a group member)."""
        key = id(node)
        if not self.wants.get(key) or self.kind[key] == "const":
            return
        if key in self.group_of:
            group, j = self.group_of[key]
            if reduce_from is not None:
                term = reduce_from
            self._record(group, ("column", group, j, term))
        else:
            if reduce_from is not None:
                term = reduce_from
            self.records.append(("node", node, term))
            self.live.add(key)

    def _contribute_group(self, group, term, full, columns=None, split=None):
        """d_group += term; split=(upstream, local) when term is upstream * local and
        local makes a new full-size array, which can then be scaled in place."""
        self._record(group, ("matrix", group, term, full, columns, split))

    def _record(self, group, record):
        self.records.append(record)
        self.contributions.setdefault(id(group), []).append(record)
        self.live.add(id(group))

    def _decide(self, group):
        """Whether d_group starts as zeros: unless it gets exactly one whole-array term
        (which for a layer must have the full N x m shape, for its matrix products)."""
        if id(group) in self.allocated:
            return
        got = self.contributions.get(id(group), [])
        single = len(got) == 1 and got[0][0] == "matrix" and got[0][4] is None
        if group.how == "params":
            self.allocated[id(group)], self.full[id(group)] = False, True
        elif group.how == "layer":
            self.allocated[id(group)] = not (single and got[0][3])
        else:
            self.allocated[id(group)] = not single
        self.full[id(group)] = self.allocated[id(group)] or bool(got and got[0][3])

    def _local(self, node, index, names, batch_names=()):
        """d node / d parents[index] as array source, from the table's formula, and
        whether it differs from sample to sample (mentions an operand in batch_names)."""
        formula = local_formula(node.op, index, len(node.parents))[1]  # **n: n filled in
        mentioned = {n.id for n in ast.walk(_parsed(formula)) if isinstance(n, ast.Name)}
        return _array_source(formula, names), bool(mentioned & set(batch_names))

    def _times(self, upstream, local):
        if local in ("1", "1.0"):
            return upstream
        if local in ("-1", "-1.0"):
            return "-" + upstream
        if not _is_atomic(local):
            local = f"({local})"
        return f"{upstream} * {local}"

    def _node_backward(self, node):
        if id(node) not in self.live:
            return
        upstream = self._d(node)
        info = op_info(node.op)
        names = {"out": self.expression[id(node)]}
        parents = node.parents
        operands = []
        if info.name == "wsum":
            k = (len(parents) - 1) // 2
            operands = [f"w_{i + 1}" if i < k else f"x_{i - k + 1}" if i < 2 * k else "b"
                        for i in range(len(parents))]
        elif info.name != "sum":
            operands = list("ab"[:len(parents)])
        names.update(zip(operands, (self._value(p) for p in parents)))
        batch_names = [o for o, p in zip(operands, parents) if self.kind[id(p)] == "batch"]
        if self.kind[id(node)] == "batch":
            batch_names.append("out")
        owner = self._whole_group(node) if info.name == "sum" else None
        if owner is not None:
            term = f"{upstream}[:, None]" if owner.kind == "batch" else upstream
            if self.wants_group(owner):
                self._contribute_group(owner, term, full=False)
            return
        batch_node = self.kind[id(node)] == "batch"
        for index, parent in enumerate(parents):
            if not self.wants.get(id(parent)):
                continue
            local, varies = self._local(node, index, names, batch_names)
            term = self._times(upstream, local)
            reduced = None
            if batch_node and self.kind[id(parent)] != "batch":
                # a parameter's share of a per-sample value: summed over the samples
                if varies:
                    reduced = f"{upstream} @ {local if _is_atomic(local) else '(' + local + ')'}"
                else:
                    reduced = self._times(f"{upstream}.sum()", local)
            self._contribute(parent, term, full=True, reduce_from=reduced)

    def wants_group(self, group):
        return any(self.wants[id(m)] for m in group.members)

    def _group_backward(self, group):
        if id(group) not in self.live or not self.wants_group(group):
            return
        self._decide(group)
        upstream = self._d(group)
        if group.how == "layer":
            w, b = self._weights(group)
            x_name = (group.x[1].name if group.x[0] == "group" and
                      group.x[2] == list(range(len(group.x[1].members))) else f"X{group.number}")
            self.records.append(("line", f"# back through layer {group.number}: products of "
                                         f"Jacobians, for all N samples at once"))
            kind, source, columns = group.x if group.x[0] == "group" else ("stack", None, None)
            if group.x[0] == "group":
                if self.wants_group(source):
                    whole = columns == list(range(len(source.members)))
                    self._contribute_group(source, self._through(group, upstream, w), full=True,
                                           columns=None if whole else f"{group.name}_x_at")
            else:
                xs = group.x[1]
                if any(self.wants[id(x)] for x in xs):
                    d_x = f"d_X{group.number}"
                    self.records.append(("line", f"{d_x} = {self._through(group, upstream, w)}"
                                                 "  # d net / d x = W"))
                    for i, x in enumerate(xs):
                        self._contribute(x, f"{d_x}[:, {i}]", full=True)
            at = [i for row in group.w_at for i in row] + list(group.b_at)
            if len(set(at)) == len(at):
                self.records.append(("line", f"dP[{group.name}_W_at] += {upstream}.T @ {x_name}"
                                             "  # d net / d W = x, summed over the samples"))
                self.records.append(("line", f"dP[{group.name}_b_at] += {upstream}.sum(axis=0)"
                                             "  # d net / d b = 1"))
            else:  # a parameter used twice in one layer: add.at adds every share
                self.records.append(("line", f"add_at(dP, {group.name}_W_at, "
                                             f"{upstream}.T @ {x_name})"))
                self.records.append(("line", f"add_at(dP, {group.name}_b_at, "
                                             f"{upstream}.sum(axis=0))"))
            return
        source = group.source
        if not self.wants_group(source):
            return
        names = {"out": group.name}
        names.update(zip("ab", (source.name if s == "G" else s for s in group.slots)))
        member = group.members[0]
        for index, slot in enumerate(group.slots):
            if slot != "G":
                continue
            local, varies = self._local(member, index, names, ("a", "b", "out"))
            fresh = varies and isinstance(_parsed(local), (ast.BinOp, ast.Call, ast.UnaryOp))
            self._contribute_group(source, self._times(upstream, local),
                                   full=self.full[id(group)] or varies,
                                   split=(upstream, local) if fresh else None)

    @staticmethod
    def _through(group, upstream, w):
        """d inputs = d net @ W; for one neuron (N x 1 @ 1 x k) the same numbers come
        faster as a broadcast product."""
        return f"{upstream} * {w}" if len(group.members) == 1 else f"{upstream} @ {w}"

    def _render(self, loss):
        allocate = []
        for group in self.groups:
            if id(group) in self.contributions:
                self._decide(group)
                if self.allocated[id(group)]:
                    allocate.append(group)
        lines = ["# backward: d_v = d loss / d v, one row per sample",
                 "dP = zeros_like(P)"]
        lines += [f"{self._d(g)} = zeros_like({g.name})" for g in allocate]
        assigned = set()
        for record in self.records:
            if record[0] == "line":
                lines.append(record[1])
            elif record[0] == "node":
                _, node, term = record
                target = self._d(node)
                # Not +=: the first term may be another d_ array itself (d_a = d_b),
                # and adding in place would change d_b too.
                lines.append(f"{target} = {target} + {term}" if target in assigned
                             else f"{target} = {term}")
                assigned.add(target)
            elif record[0] == "column":
                _, group, j, term = record
                target = self._d(group)
                column = f"[:, {j}]" if group.kind == "batch" else f"[{j}]"
                lines.append(f"{target}{column} += {term}")
            else:
                _, group, term, full, columns, split = record
                target = self._d(group)
                if columns is not None:
                    lines.append(f"{target}[:, {columns}] += {term}")
                elif group.how == "params" or group in allocate:
                    lines.append(f"{target} += {term}")
                elif split is not None:  # local derivative, then the chain rule in place
                    lines.append(f"{target} = {split[1]}")
                    lines.append(f"{target} *= {split[0]}")
                else:
                    lines.append(f"{target} = {term}")
        lines.append(f"return {loss}, dP")
        return lines


def _stem(op_name):
    name = op_info(op_name).name
    return _STEMS.get(name, name)
