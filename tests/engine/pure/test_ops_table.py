"""The formulas in the op table are the derivatives the engine uses: evaluate them."""

import math

import pytest

from autograd_core import OPS, Value, op_info, value_sum, weighted_sum
from autograd_core.ops import expand, local_formula
from autograd_core.vocabulary import backend

# The table's text evaluated over floats through the public accessor, with `where` as a
# plain function (both branches computed: fine at these points).
NAMES = backend("floats")


def evaluate(formula, **names):
    from autograd_core.ops import evaluate as evaluate_text
    return evaluate_text(formula, {**NAMES, **names})


NODES = [
    lambda: Value(1.5) + Value(-0.5), lambda: Value(1.5) - Value(-0.5),
    lambda: Value(1.5) * Value(-0.5), lambda: Value(1.5) / Value(-0.5),
    lambda: -Value(1.5), lambda: Value(1.5) ** 3, lambda: Value(1.5) ** -0.5,
    lambda: Value(1.5) ** Value(0.7), lambda: Value(0.4).exp(), lambda: Value(0.4).log(),
    lambda: Value(0.4).tanh(), lambda: Value(0.4).sigmoid(), lambda: Value(0.4).relu(),
    lambda: Value(-0.4).relu(), lambda: Value(0.4).softplus(), lambda: Value(0.4).sin(),
    lambda: Value(0.4).cos(), lambda: Value(0.4).sqrt(), lambda: abs(Value(-0.4)),
    lambda: __import__("autograd_core").maximum(Value(0.4), Value(0.3)),
    lambda: __import__("autograd_core").minimum(Value(0.4), Value(0.3)),
]


@pytest.mark.parametrize("make", NODES)
def test_table_formulas_equal_engine_values(make):
    node = make()
    info = op_info(node.op)
    a = node.parents[0].data
    b = node.parents[1].data if len(node.parents) > 1 else None
    n = expand(node.op, len(node.parents)).bindings.get("n")
    env = dict(a=a, b=b, n=n, out=node.data)
    assert math.isclose(evaluate(info.forward, **env), node.data, rel_tol=1e-12)
    for i, local in enumerate(node.local_grads):
        _, formula = local_formula(node.op, i, len(node.parents))
        assert math.isclose(evaluate(formula, **env), local, rel_tol=1e-12, abs_tol=1e-15), \
            (node.op, i, formula)


def test_nary_formulas_equal_engine_values():
    ws, xs = [Value(0.5), Value(-2.0)], [Value(3.0), Value(0.25)]
    node = weighted_sum(ws, xs, Value(0.1))
    env = {"w_1": 0.5, "w_2": -2.0, "x_1": 3.0, "x_2": 0.25, "b": 0.1}
    for i, local in enumerate(node.local_grads):
        _, formula = local_formula(node.op, i, len(node.parents))
        assert evaluate(formula, **env) == local
    expansion = expand(node.op, len(node.parents))
    assert expansion.operands == ("w_1", "w_2", "x_1", "x_2", "b")
    assert evaluate(expansion.forward, **env) == node.data
    total = value_sum([Value(1.0), Value(2.0), 3.0])
    assert [local_formula(total.op, i, 3)[1] for i in range(3)] == ["1", "1", "1"]
    assert total.local_grads == (1.0, 1.0, 1.0) and total.data == 6.0
    assert evaluate(expand(total.op, 3).forward, a_1=1.0, a_2=2.0, a_3=3.0) == total.data


def test_every_op_the_engine_makes_is_in_the_table():
    sums = {weighted_sum([Value(1.0)], [Value(2.0)], Value(0.5)).op,
            value_sum([Value(1.0), Value(2.0)]).op}
    made = {make().op for make in NODES} | sums
    for op_name in made:
        assert op_info(op_name).name in OPS
    rows = {op_info(op_name).name for op_name in made}
    assert rows >= {"+", "-", "*", "/", "neg", "**", "exp", "log", "tanh", "sigmoid", "relu"}
    assert len(rows) == len(made) - 1  # x ** 3 and x ** -0.5 are nodes of one row


def test_unknown_op_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown operation"):
        op_info("frobnicate")


def test_table_renders_as_markdown():
    from autograd_core.ops import as_markdown
    text = as_markdown()
    assert "| `*` | `a * b` | `d out/da = b, d out/db = a` |  |" in text
    assert "| `sin` | `sin(a)` | `d out/da = cos(a)` | `sin(x)` |" in text


def test_python_m_autograd_core_prints_the_whole_table():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "autograd_core"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr == ""
    for name, info in OPS.items():
        if not info.user:  # ops declared by other tests in this process are not built in
            assert f"| `{name}` |" in out.stdout


def test_readme_shows_the_current_op_table():
    import pathlib
    from autograd_core.ops import as_markdown
    readme = (pathlib.Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    start = readme.index("a test keeps it current -->\n") + len("a test keeps it current -->\n")
    end = readme.index("\n<!-- end of the op table -->")
    assert readme[start:end] == as_markdown(), "README's op table is stale: paste python -m autograd_core"
