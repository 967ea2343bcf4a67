"""autograd_core.compile: the generated straight-line code equals the eager engine.

The eager engine is the reference here (its own tests check it against torch and finite
differences); one MLP test also checks the compiled gradients against torch directly.
"""

import ast
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_core import CompiledGraph, Value, compile, topological_order, value_sum, weighted_sum
from nn import MLP, mse_loss

from tests.helpers import close, tensor, torch_or_skip
from tests.strategies import build, programs


def assert_close(a, b, what=""):
    assert close(a, b, rel=1e-12, abs_=1e-12), f"{what}: compiled {a!r} vs eager {b!r}"


# ------------------------------------------------------------- random programs
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(max_steps=12))
def test_compiled_equals_eager_on_random_graphs(program):
    values, steps = program
    root, inputs = build(values, steps)
    root.backward()
    function = compile(root, inputs)
    out, grads = function()
    assert_close(out, root.data, "output")
    for value, grad in zip(inputs, grads):
        assert_close(grad, value.grad, value.label)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(max_steps=12), st.lists(st.floats(-0.01, 0.01), min_size=4, max_size=4))
def test_compiled_on_new_values_equals_a_fresh_eager_graph(program, shifts):
    """The compiled function fed new numbers equals the engine rebuilt on them, or both
    raise the same error."""
    values, steps = program
    root, inputs = build(values, steps)
    function = compile(root, inputs)
    new_values = [v + s for v, s in zip(values, shifts)]
    try:
        eager_root, eager_inputs = build(new_values, steps)
    except (ArithmeticError, ValueError) as error:
        with pytest.raises(type(error)):
            function(new_values)
        return
    # the same program may take another branch at its domain guards on new numbers
    same_shape = [n.op for n in _ops(eager_root)] == [n.op for n in _ops(root)]
    if not same_shape:
        return
    eager_root.backward()
    out, grads = function(new_values)
    assert_close(out, eager_root.data, "output")
    for value, grad in zip(eager_inputs, grads):
        assert_close(grad, value.grad, value.label)


def _ops(root):
    from autograd_core import topological_order
    return topological_order(root)


def test_every_op_appears_in_one_compiled_graph():
    x, y = Value(1.3, label="x"), Value(0.7, label="y")
    terms = [x + y, x - y, x * y, x / y, -x, x ** 2, x ** 0.5, x ** y, x.exp(), x.log(),
             x.tanh(), x.sigmoid(), (x - 2.0).relu(), x.relu(), x.softplus(),
             weighted_sum([x, y], [y, 2.0], 0.5)]
    root = value_sum(terms)
    root.backward()
    out, grads = compile(root, [x, y])()
    assert_close(out, root.data)
    assert_close(grads[0], x.grad)
    assert_close(grads[1], y.grad)


# ---------------------------------------------------------------------- networks
def mlp_loss(activation):
    model = MLP(2, [4, 4, 1], activation=activation, seed=3)
    points = [[0.5, -1.0], [1.5, 0.25], [-0.75, 0.8]]
    loss = mse_loss([model(p) for p in points], [1.0, 0.0, 1.0])
    return model, loss


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
def test_mlp_compiled_equals_eager_and_torch(activation):
    torch = torch_or_skip()
    model, loss = mlp_loss(activation)
    params = model.parameters()
    loss.backward()
    function = compile(loss, params)
    out, grads = function()
    assert_close(out, loss.data)
    for p, g in zip(params, grads):
        assert_close(g, p.grad, p.label)
    # independent oracle: the same network in torch float64
    ts = [tensor(p.data) for p in params]
    it = iter(ts)
    layers = [[([next(it) for _ in range(len(n.w))], next(it)) for n in layer.neurons]
              for layer in model.layers]
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
           "linear": lambda t: t}[activation]
    total = 0
    for point, target in zip([[0.5, -1.0], [1.5, 0.25], [-0.75, 0.8]], [1.0, 0.0, 1.0]):
        h = [torch.tensor(v, dtype=torch.float64) for v in point]
        for layer in layers:
            h = [act(sum(w * x for w, x in zip(ws, h)) + b) for ws, b in layer]
        total = total + (h[0] - target) ** 2
    (total / 3).backward()
    for t, g in zip(ts, grads):
        assert close(g, t.grad.item())


def test_new_parameter_values_match_a_rebuilt_graph():
    model, loss = mlp_loss("tanh")
    params = model.parameters()
    function = compile(loss, params)
    new = [p.data + 0.1 * math.sin(i) for i, p in enumerate(params)]
    for p, v in zip(params, new):
        p.data = v
    _, eager = mlp_loss("tanh")  # seed 3 again: overwrite its weights with the new ones
    model2 = _
    for p, v in zip(model2.parameters(), new):
        p.data = v
    eager = mse_loss([model2(p) for p in [[0.5, -1.0], [1.5, 0.25], [-0.75, 0.8]]],
                     [1.0, 0.0, 1.0])
    eager.backward()
    out, grads = function(new)
    assert_close(out, eager.data)
    for p, g in zip(model2.parameters(), grads):
        assert_close(g, p.grad)
    assert function()[0] == out  # no argument: reads the inputs' current .data


def test_backward_method_accumulates_into_grad_like_the_engine():
    model, loss = mlp_loss("sigmoid")
    params = model.parameters()
    function = compile(loss, params)
    out = function.backward()
    first = [p.grad for p in params]
    function.backward()
    assert out == pytest.approx(loss.data, abs=1e-12)
    assert [p.grad for p in params] == pytest.approx([2 * g for g in first], abs=1e-12)
    model.zero_grad()
    loss.backward()
    assert [p.grad for p in params] == pytest.approx(first, abs=1e-12)


# ------------------------------------------------------------------------ errors
def small_graph():
    x, y = Value(3.0, label="x"), Value(3.0, label="y")
    return x, y, x.log() + y / (x - 2.0)


def test_input_errors_are_clear():
    x, y, root = small_graph()
    f = compile(root, [x, y])
    with pytest.raises(ValueError, match="expected 2 input values.*new compile"):
        f([1.0])
    with pytest.raises(ValueError, match="finite"):
        f([1.0, math.nan])
    with pytest.raises(TypeError, match="int or float"):
        f([1.0, "2"])
    with pytest.raises(TypeError, match="list of 2 numbers"):
        f(3.0)
    with pytest.raises(ValueError, match="not a leaf"):
        compile(root, [x * y])
    with pytest.raises(ValueError, match="not part of the graph"):
        compile(root, [x, Value(1.0)])
    with pytest.raises(ValueError, match="twice"):
        compile(root, [x, x])
    with pytest.raises(TypeError, match="must be a Value"):
        compile(root, [x, 2.0])
    with pytest.raises(TypeError, match="root"):
        compile(2.0, [x])
    with pytest.raises(TypeError, match="list of leaf Values"):
        compile(root, x)


def engine_error(make):
    with pytest.raises((ArithmeticError, ValueError)) as info:
        make()
    return info.type, str(info.value)


@pytest.mark.parametrize("values, op", [([-2.0, 3.0], "log"), ([2.0, 3.0], "/")])
def test_bad_math_raises_the_engines_error(values, op):
    x, y, root = small_graph()
    f = compile(root, [x, y])
    kind, message = engine_error(lambda: Value(values[0]).log()
                                 + Value(values[1]) / (Value(values[0]) - 2.0))
    with pytest.raises(kind) as info:
        f(values)
    assert str(info.value) == message
    assert message.startswith(op)


def test_overflow_and_negative_base_raise_the_engines_error():
    x = Value(1.0, label="x")
    f = compile(x.exp() * 2.0, [x])
    kind, message = engine_error(lambda: Value(800.0).exp())
    with pytest.raises(kind, match="exp"):
        f([800.0])
    g = compile(x ** 0.5, [x])
    with pytest.raises(ValueError, match="negative base"):
        g([-4.0])
    tiny = Value(1e-300, label="tiny")
    h = compile((tiny * 1e200) * 1e200, [tiny])
    with pytest.raises(OverflowError, match=r"\*"):
        h([1.0])


# ------------------------------------------------------------ source and safety
def test_source_is_readable_straight_line_code():
    model, loss = mlp_loss("sigmoid")
    f = compile(loss, model.parameters())
    src = f.source
    assert isinstance(f, CompiledGraph)
    assert "That is all backprop is" in src
    assert "L1_h1_w1" in src and "d_L2_h3_b" in src
    tree = ast.parse(src)
    function = tree.body[0]
    assert not [n for n in ast.walk(function) if isinstance(n, (ast.For, ast.While))]
    body = [line for line in src.splitlines() if line.startswith("    ")]
    assert body.index("    # forward") < body.index("    # backward")
    assert "sigmoid(" in src


def test_labels_become_unique_identifiers():
    a, b, c, d = (Value(1.0, label="w 1"), Value(2.0, label="w-1"), Value(3.0, label="if"),
                  Value(4.0, label="exp"))
    e, g = Value(5.0, label="x"), Value(6.0, label="d_x")
    root = a * b + c * d + e * g
    f = compile(root, [a, b, c, d, e, g])
    first = f.source.splitlines()[[l.strip().endswith("= inputs") for l in
                                   f.source.splitlines()].index(True)]
    names = [n.strip() for n in first.split("=")[0].split(",")]
    assert len(set(names)) == 6 and all(n.isidentifier() for n in names)
    root.backward()
    assert f()[1] == [v.grad for v in (a, b, c, d, e, g)]


def test_labels_and_numbers_cannot_inject_code(tmp_path):
    marker = tmp_path / "pwned"
    evil = f"x\nimport os; os.system('touch {marker}')  # \r\n__import__('os')"
    x = Value(2.0, label=evil)

    class Sneaky(float):
        def __repr__(self):
            return f"__import__('os').system('touch {marker}')"
    c = Value(3.0)
    root = x * c
    c.data = Sneaky(3.0)
    root.label = "y'); __import__('os').system('touch " + str(marker) + "')#"
    f = compile(root, [x])
    tree = ast.parse(f.source)
    assert len(tree.body) == 1  # one function, nothing else
    allowed = {"exp", "log", "tanh", "sigmoid", "relu", "softplus", "fsum"}
    for node in ast.walk(tree):
        assert not isinstance(node, (ast.Import, ast.ImportFrom, ast.Attribute))
        if isinstance(node, ast.Call):
            assert node.func.id in allowed
    assert "__import__(" not in f.source
    assert f([2.0]) == (6.0, [3.0])
    assert not marker.exists()


def test_watched_nodes_report_their_values_on_each_call():
    from autograd_core import compile as compile_graph
    w = Value(0.5, label="w")
    hidden = [(w * x).tanh() for x in (1.0, -2.0, 3.0)]
    loss = sum(h * h for h in hidden)
    f = compile_graph(loss, [w], watch=hidden)
    f([0.25])
    assert f.watched_values == [math.tanh(0.25 * x) for x in (1.0, -2.0, 3.0)]
    f([0.5])
    assert f.watched_values == [h.data for h in hidden]
    with pytest.raises(ValueError, match=r"watch\[0\]"):
        compile_graph(loss, [w], watch=[Value(1.0)])


def test_an_overflowing_gradient_is_an_error_not_inf():
    from autograd_core import compile as compile_graph
    x = Value(1e-20, label="x")
    y = 1e300 * x * 1e10  # y = 1e290 is a float; dy/dx = 1e310 is not
    f = compile_graph(y, [x])
    with pytest.raises(OverflowError, match="gradient of 'x'.*chain-rule step 2"):
        f([1e-20])


def test_compiled_code_names_nodes_as_the_text_and_pictures_do():
    # One naming scheme: the legend's n1 = w*x is the code's n1, the output is L.
    from autograd_core.naming import definition, node_names
    w, x, b = Value(-1.2, label="w"), Value(0.5, label="x"), Value(0.1, label="b")
    root = (w * x + b).sigmoid()
    names = node_names(topological_order(root), root)
    f = compile(root, [w, x, b])
    for node, name in names.items():
        if node.parents:
            assert f"\n    {name} = " in f.source, (name, f.source)
    assert names[root] == "L" and "return L, [d_w, d_x, d_b]" in f.source


def test_compiled_code_refuses_an_overflow_the_engine_refuses():
    # w*x = 1e309 overflows: the engine raises at the product; the compiled code used to
    # carry inf on through tanh and return (1.0, [0.0, 0.0]) as if nothing happened.
    w, x = Value(1.0, label="w"), Value(2.0, label="x")
    f = compile((w * x).tanh(), [w, x])
    with pytest.raises(OverflowError) as compiled_error:
        f([1e308, 10.0])
    with pytest.raises(OverflowError) as eager_error:
        (Value(1e308) * Value(10.0)).tanh()
    assert str(compiled_error.value) == str(eager_error.value)
    assert f([0.5, 1.0])[0] == math.tanh(0.5)  # and finite values still go through
