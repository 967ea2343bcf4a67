"""compile(loss_of_one_sample, params, batch=[...]): one sample's graph run for a batch.

The reference is the eager engine on the whole batch: one graph per sample sharing the
parameter Values, their losses summed (and divided by N for "mean"), one backward().
The eager engine has its own tests against torch and finite differences; one test here
also checks the batch gradients of an MLP against torch float64 directly. Every result
is checked both with numpy (the array form) and with numpy hidden (the per-sample loop).
"""

import re
import contextlib
import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_core import Value, compile, value_sum, weighted_sum
from nn import MLP

from tests.helpers import tensor, torch_or_skip
from tests.strategies import (PROGRAM_OPS, apply_safe, batch_programs, step_on, table_ops,
                              table_ops_made)

np = pytest.importorskip("numpy")

SETTINGS = dict(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(params=["numpy", "no numpy"])
def numpy_or_not(request):
    """True: compile with numpy; False: compile while `import numpy` fails."""
    return request.param == "numpy"


@contextlib.contextmanager
def numpy_hidden(hide=True):
    """`import numpy` raises ImportError inside (the batch compile imports it when it
    compiles; the compiled function keeps what it found)."""
    if not hide:
        yield
        return
    saved = sys.modules.get("numpy")
    sys.modules["numpy"] = None
    try:
        yield
    finally:
        sys.modules["numpy"] = saved


def batch_compile(use_numpy, *args, **kwargs):
    with numpy_hidden(not use_numpy):
        return compile(*args, **kwargs)


# --------------------------------------------------------------- the reference
def eager_batch(build, param_values, columns, reduce):
    """(reduced loss, grads) from the eager engine: every sample's graph, one backward."""
    params = [Value(v) for v in param_values]
    losses = [build(params, [Value(c[n]) for c in columns]) for n in range(len(columns[0]))]
    total = value_sum(losses)
    loss = total / len(losses) if reduce == "mean" else total
    loss.backward()
    return loss.data, [p.grad for p in params]


def per_sample_scale(build, param_values, columns):
    """Sum over the samples of |per-sample loss| and of each |per-sample gradient|: the
    size of what the batch adds up, against which its rounding is measured."""
    loss_scale, grad_scale = 0.0, [0.0] * len(param_values)
    for n in range(len(columns[0])):
        params = [Value(v) for v in param_values]
        loss = build(params, [Value(c[n]) for c in columns])
        loss.backward()
        loss_scale += abs(loss.data)
        grad_scale = [s + abs(p.grad) for s, p in zip(grad_scale, params)]
    return loss_scale, grad_scale


def check_batch(build, n_params, param_values, columns, reduce="mean", expect_numpy=None):
    params = [Value(v, label=f"p{i}") for i, v in enumerate(param_values)]
    holders = [Value(0.0, label=f"x{i}") for i in range(len(columns))]
    f = batch_compile(expect_numpy is not False, build(params, holders), params,
                      batch=holders, reduce=reduce)
    if expect_numpy is not None:
        assert f.uses_numpy is expect_numpy
    loss, grads = f(param_values, columns)
    ref_loss, ref_grads = eager_batch(build, param_values, columns, reduce)
    loss_scale, grad_scale = per_sample_scale(build, param_values, columns)
    divide = len(columns[0]) if reduce == "mean" else 1
    # 1e-12 relative to the sum of the magnitudes being added (the sum itself can cancel)
    assert abs(loss - ref_loss) <= 1e-12 * (loss_scale / divide + abs(ref_loss)) + 1e-300, \
        (loss, ref_loss)
    assert len(grads) == n_params
    # A component can be tiny because it is a difference inside each sample (2 (z - t)
    # with z close to t): the two sides round z differently (a matrix product sums in
    # another order), so that component is only as exact as the vector's largest ones.
    # Hence 1e-12 relative per component or normwise, the usual test for a vector.
    largest = max(grad_scale, default=0.0) / divide
    for i, (g, r, s) in enumerate(zip(grads, ref_grads, grad_scale)):
        assert abs(g - r) <= 1e-12 * (s / divide + abs(r) + largest) + 1e-300, (i, g, r)
    return f


# ---------------------------------------------------- random graphs of every op
def test_every_op_in_the_table_is_in_the_random_graphs():
    assert set(table_ops()) <= table_ops_made(apply_safe), \
        set(table_ops()) - table_ops_made(apply_safe)


def builder(steps):
    """build(params, holders): the steps over the sample's Values, safe for any numbers."""
    def build(params, holders):
        nodes = list(params) + list(holders)
        for op_name, picks, constant in steps:
            nodes.append(apply_safe(op_name, [nodes[i] for i in picks], constant))
        # every parameter and placeholder takes part (compile insists on that)
        return value_sum([nodes[-1]] + [p * h for p in params for h in holders])
    return build


finite = st.floats(-2, 2, allow_nan=False)


@settings(**SETTINGS)
@given(batch_programs(), st.data(), st.sampled_from(["mean", "sum"]))
def test_random_graphs_equal_the_eager_engine(numpy_or_not, program, data, reduce):
    n_params, n_holders, steps = program
    n = data.draw(st.integers(1, 12), label="batch size")
    param_values = data.draw(st.lists(finite, min_size=n_params, max_size=n_params))
    columns = [data.draw(st.lists(finite, min_size=n, max_size=n)) for _ in range(n_holders)]
    check_batch(builder(steps), n_params, param_values, columns, reduce,
                expect_numpy=numpy_or_not)


def test_a_gradient_passed_on_whole_and_then_added_to_stays_its_own(numpy_or_not):
    # Found by the random graphs: d_a = d_total (the same array) and then d_a += ...
    # changed d_total as well, so dL/dp came out 5 where it is 3x + 1 = 4 at x = 1.
    def build(params, holders):
        p, x = params[0], holders[0]
        a = p * x
        return value_sum([value_sum([a, p, a, 1.5]), p * x])
    for columns in ([[1.0]], [[1.0, -0.5, 2.0]]):
        check_batch(build, 1, [0.0], columns, "mean", expect_numpy=numpy_or_not)
    p, x = Value(0.0), Value(0.0)
    a = p * x
    f = batch_compile(numpy_or_not, value_sum([value_sum([a, p, a, 1.5]), p * x]), [p],
                      batch=[x], reduce="mean")
    assert f([0.0], [[1.0]])[1] == [4.0]


@pytest.mark.parametrize("n", range(1, 9))
def test_every_op_alone_at_every_small_batch_size(numpy_or_not, n):
    for op_name in PROGRAM_OPS:
        build = builder([step_on(op_name, 0, 2)])
        columns = [[0.3 * k - 0.7 for k in range(n)], [0.11 * k + 0.2 for k in range(n)]]
        check_batch(build, 2, [0.4, -1.3], columns, "mean", expect_numpy=numpy_or_not)


# ------------------------------------------------------------------ networks
def network_builder(sizes, activation, output_activation, loss_kind, l2):
    """build(params, holders) for an MLP whose weights are the given param Values."""
    def build(params, holders):
        xs, target = holders[:-1], holders[-1]
        model = MLP(sizes[0], sizes[1:], activation=activation,
                    output_activation=output_activation, seed=0)
        model_params = model.parameters()
        assert len(model_params) == len(params)
        # put our Values in the model's place, keeping its wiring
        at = {id(p): v for p, v in zip(model_params, params)}
        for layer in model.layers:
            for neuron in layer.neurons:
                neuron.w = [at[id(w)] for w in neuron.w]
                neuron.b = at[id(neuron.b)]
        out = model(xs)
        out = out if isinstance(out, Value) else out[0]
        if loss_kind == "hinge":
            loss = (1.0 - target * out).relu()
        else:
            loss = (out - target) ** 2
        if l2:
            loss = loss + l2 * value_sum([p * p for p in params])
        return loss
    return build


def n_parameters(sizes):
    return sum((nin + 1) * nout for nin, nout in zip(sizes, sizes[1:]))


@settings(**SETTINGS)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=4).map(lambda s: [s[0]] + s[1:] + [1]),
       st.sampled_from(["sigmoid", "tanh", "relu", "linear"]),
       st.sampled_from(["linear", "sigmoid"]), st.sampled_from(["mse", "hinge"]),
       st.sampled_from([0.0, 1e-3]), st.integers(1, 9), st.data())
def test_networks_equal_the_eager_engine(numpy_or_not, sizes, activation, output_activation,
                                         loss_kind, l2, n, data):
    count = n_parameters(sizes)
    params = data.draw(st.lists(finite, min_size=count, max_size=count))
    columns = [data.draw(st.lists(finite, min_size=n, max_size=n)) for _ in range(sizes[0] + 1)]
    build = network_builder(sizes, activation, output_activation, loss_kind, l2)
    check_batch(build, count, params, columns, "mean", expect_numpy=numpy_or_not)


def test_a_network_is_fused_into_matrix_products():
    sizes = [2, 16, 16, 1]
    build = network_builder(sizes, "relu", "linear", "hinge", 1e-4)
    params = [Value(0.1 * ((i * 7) % 11) - 0.5) for i in range(n_parameters(sizes))]
    holders = [Value(0.0, label=name) for name in ("x1", "x2", "y")]
    f = compile(build(params, holders), params, batch=holders)
    lines = [line for line in f.source.splitlines() if line.strip()]
    code = [line for line in lines if not line.lstrip().startswith("#")]
    assert len(code) < 60, f.source  # a few dozen lines, not one per weight
    for k in (1, 2, 3):
        assert f"net{k} = " in f.source and f"@ W{k}.T" in f.source
    assert "d_relu1 = d_net2 @ W2" in f.source        # d inputs = d net @ W
    assert "d_net2.T @ relu1" in f.source             # d W = d net^T @ X, over the batch
    assert "mul1 = P * P" in f.source                 # the L2 term: one array operation


def test_batch_gradients_match_torch():
    torch = torch_or_skip()
    sizes = [3, 5, 4, 1]
    count = n_parameters(sizes)
    build = network_builder(sizes, "tanh", "sigmoid", "mse", 0.0)
    values = [math.sin(1.7 * i) for i in range(count)]
    n = 23
    columns = [[math.cos(0.3 * k + c) for k in range(n)] for c in range(sizes[0] + 1)]
    params = [Value(v) for v in values]
    holders = [Value(0.0) for _ in columns]
    loss, grads = compile(build(params, holders), params, batch=holders)(values, columns)
    # torch, wired from the same parameter order: per neuron, weights then bias
    flat = tensor(values)
    h = torch.tensor(columns[:-1], dtype=torch.float64).T
    at = 0
    for nin, nout in zip(sizes, sizes[1:]):
        block = flat[at:at + nout * (nin + 1)].reshape(nout, nin + 1)
        at += nout * (nin + 1)
        h = h @ block[:, :nin].T + block[:, nin]
        h = torch.tanh(h) if at < count else torch.sigmoid(h)
    expected = ((h[:, 0] - torch.tensor(columns[-1], dtype=torch.float64)) ** 2).mean()
    expected.backward()
    assert abs(loss - expected.item()) <= 1e-12 * abs(expected.item())
    for g, t in zip(grads, flat.grad.tolist()):
        assert abs(g - t) <= 1e-12 * (abs(t) + 1e-3)


def test_shared_weights_and_permuted_inputs_are_added_up(numpy_or_not):
    """A parameter used twice in one layer, and a layer reading the previous one in
    another order, take the general paths (add.at, a gathered matrix)."""
    def build(params, holders):
        x1, x2, t = holders
        w, v, b = params
        h = [weighted_sum([w, v], [x1, x2], b).tanh(), weighted_sum([v, w], [x1, x2], b).tanh()]
        out = weighted_sum([w, w], [h[1], h[0]], b)
        return (out - t) ** 2 + value_sum(h)
    columns = [[0.1, -0.4, 0.9], [1.2, 0.3, -0.5], [0.0, 1.0, 0.5]]
    check_batch(build, 3, [0.3, -0.8, 0.05], columns, "sum", expect_numpy=numpy_or_not)


def test_a_loss_without_the_batch_and_a_dead_branch(numpy_or_not):
    def build(params, holders):
        (x,) = holders
        _unused = x.exp()
        return params[0] * params[1] + 0.0 * x
    check_batch(build, 2, [0.5, -2.0], [[1.0, 2.0, 3.0]], "sum", expect_numpy=numpy_or_not)


# ------------------------------------------------------------------- errors
def small():
    w, x, y = Value(0.5, label="w"), Value(0.0, label="x"), Value(0.0, label="y")
    return w, x, y, (w * x - y) ** 2


def one_line(error):
    text = str(error.value)
    assert "\n" not in text and text
    return text


def test_compile_errors_are_one_clear_line():
    w, x, y, loss = small()
    with pytest.raises(ValueError) as error:
        compile(loss, [w], batch=[x, loss])
    assert "not a leaf" in one_line(error)
    with pytest.raises(ValueError) as error:
        compile(loss, [w], batch=[x, y], reduce="median")
    assert "'mean' or 'sum'" in one_line(error)
    with pytest.raises(ValueError) as error:
        compile(loss, [w], batch=[x, w])
    assert "also in params" in one_line(error)
    with pytest.raises(ValueError) as error:
        compile(loss, [w], batch=[x, Value(1.0, label="z")])
    assert "not part of the graph" in one_line(error)
    with pytest.raises(ValueError) as error:
        compile(loss, [w], batch=[])
    assert "no placeholders" in one_line(error)
    with pytest.raises(TypeError) as error:
        compile(loss, [w], batch=[x, 3.0])
    assert "must be a Value" in one_line(error)
    with pytest.raises(ValueError) as error:
        compile(loss, [w], reduce="sum")
    assert "only applies with batch" in one_line(error)


def test_call_errors_are_one_clear_line(numpy_or_not):
    w, x, y, loss = small()
    f = batch_compile(numpy_or_not, loss, [w], batch=[x, y])
    with pytest.raises(ValueError) as error:
        f([0.5], [[1.0, float("nan")], [1.0, 2.0]])
    assert "column 0 (x), row 1" in one_line(error) and "nan" in one_line(error)
    with pytest.raises(ValueError) as error:
        f([0.5], [[1.0, 2.0], [1.0]])
    assert "column 1 (y) has 1 values but column 0 (x) has 2" in one_line(error)
    with pytest.raises(ValueError) as error:
        f([0.5], [[1.0, 2.0]])
    assert "expected 2 columns" in one_line(error)
    with pytest.raises(ValueError) as error:
        f([0.5], [[], []])
    assert "at least one sample" in one_line(error)
    with pytest.raises(ValueError) as error:
        f([0.5, 1.0], [[1.0], [2.0]])
    assert "expected 1 parameter values" in one_line(error)
    with pytest.raises(ValueError) as error:
        f([float("inf")], [[1.0], [2.0]])
    assert "finite" in one_line(error)
    with pytest.raises(TypeError) as error:
        f([0.5], [["a"], [2.0]])
    assert "column 0 (x), row 0" in one_line(error)
    with pytest.raises(TypeError) as error:
        f([0.5], 3.0)
    assert "columns" in one_line(error)


def test_a_sample_outside_an_operations_domain_is_named(numpy_or_not):
    w, x = Value(1.0, label="w"), Value(1.0, label="x")
    f = batch_compile(numpy_or_not, (w * x).log(), [w], batch=[x])
    assert f([1.0], [[1.0, 2.0]])[0] == pytest.approx((math.log(1.0) + math.log(2.0)) / 2)
    with pytest.raises(ValueError) as error:
        f([1.0], [[1.0, 2.0, -3.0, 4.0]])
    text = one_line(error)
    assert "sample 2" in text and "log" in text
    g = batch_compile(numpy_or_not, (w * x).exp(), [w], batch=[x])
    with pytest.raises(OverflowError) as error:
        g([1.0], [[1.0, 800.0]])
    assert "sample 1" in one_line(error)


def test_numpy_is_not_imported_by_autograd_core():
    code = ("import sys, autograd_core\n"
            "from autograd_core import Value, compile\n"
            "w, x = Value(1.0), Value(2.0)\n"
            "compile(w * x, [w])\n"
            "print('numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_without_numpy_the_source_is_the_per_sample_code():
    w, x, y, loss = small()
    f = batch_compile(False, loss, [w], batch=[x, y], reduce="sum")
    assert not f.uses_numpy
    assert "once per sample" in f.source and "def forward_backward" in f.source
    assert f([2.0], [[1.0, 2.0], [0.0, 1.0]]) == (2.0 ** 2 + 3.0 ** 2, [2 * 2.0 * 1.0 + 2 * 3.0 * 2.0])


def test_ops_a_user_declares(numpy_or_not):
    """Declared as formula text, an op runs over arrays like a built-in one; declared
    with Python functions, it runs sample by sample."""
    from autograd_core.methods import declare, undeclare
    softsign = declare("softsign_batch_test", forward="a / (1 + abs(a))",
                       derivatives={"a": "1 / (1 + abs(a)) ** 2"})
    cube = declare("cube_batch_test", forward=lambda a: a ** 3,
                   derivatives={"a": lambda a, out: 3 * a ** 2})
    try:
        def build(params, holders):
            return softsign(params[0] * holders[0]) + cube(params[1] + holders[0])
        f = check_batch(build, 2, [0.7, -0.2], [[0.5, -1.5, 2.0]], "mean")
        assert not f.uses_numpy  # the Python-function op
        g = check_batch(lambda p, h: softsign(p[0] * h[0]) * p[1], 2, [0.7, -0.2],
                        [[0.5, -1.5, 2.0]], "sum", expect_numpy=numpy_or_not)
        assert re.search(r"\+ abs\((mul1|n1)\)", g.source)  # the declared formula, in the code
    finally:
        undeclare("softsign_batch_test")
        undeclare("cube_batch_test")


# ------------------------------------------------------ watch= and compile_outputs
@settings(**SETTINGS)
@given(program=batch_programs(), data=st.data())
def test_watched_values_and_forward_only_outputs_equal_the_engine(numpy_or_not, program, data):
    """Every node of a random graph watched: its value for each sample equals the eager
    engine's; compile_outputs gives the same rows without a loss or gradients."""
    from autograd_core.batch import compile_outputs
    n_params, n_holders, steps = program
    n = data.draw(st.integers(1, 6))
    param_values = data.draw(st.lists(finite, min_size=n_params, max_size=n_params))
    columns = [data.draw(st.lists(finite, min_size=n, max_size=n)) for _ in range(n_holders)]
    build = builder(steps)
    params = [Value(v, label=f"p{i}") for i, v in enumerate(param_values)]
    holders = [Value(0.0, label=f"x{i}") for i in range(n_holders)]
    root = build(params, holders)
    from autograd_core import topological_order
    nodes = [node for node in topological_order(root) if node.parents][-3:]
    f = batch_compile(numpy_or_not, root, params, batch=holders, reduce="mean", watch=nodes)
    forward = None
    with numpy_hidden(not numpy_or_not):
        forward = compile_outputs(nodes, params, holders)
    assert f.uses_numpy is numpy_or_not and forward.uses_numpy is numpy_or_not
    f(param_values, columns)
    rows = forward(param_values, columns)
    for k in range(n):
        sample = [Value(v) for v in param_values]
        eager = [Value(c[k]) for c in columns]
        new = build(sample, eager)
        order_old = [node for node in topological_order(root)]
        order_new = [node for node in topological_order(new)]
        values = {id(a): b.data for a, b in zip(order_old, order_new)}
        want = [values[id(node)] for node in nodes]
        for got in (f.watched_values[k], rows[k]):
            assert len(got) == len(want)
            for a, b in zip(got, want):
                # sums of several terms are added in another order (engine: fsum)
                assert abs(a - b) <= 1e-12 * max(abs(b), 1.0), (a, b)
    if numpy_or_not:
        assert f.watched_array.shape == (n, len(nodes))


def test_watch_and_compile_outputs_errors():
    from autograd_core.batch import compile_outputs
    x, w = Value(0.0, label="x"), Value(0.5, label="w")
    loss = (w * x).tanh()
    with pytest.raises(ValueError, match=r"watch\[0\] must be a Value of this graph"):
        compile(loss, [w], batch=[x], watch=[Value(1.0)])
    with pytest.raises(ValueError, match="no outputs"):
        compile_outputs([], [w], [x])
    with pytest.raises(TypeError, match="outputs must be a list"):
        compile_outputs(loss, [w], [x])
