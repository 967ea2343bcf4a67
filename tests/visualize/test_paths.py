"""Every path from the output to an input: the products sum to the gradient (engine, torch)."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from autograd_core import Value, topological_order
from visualize.explain import narrate
from visualize.paths import (count_paths, gradient_formula, gradient_paths,
                             simplified_formula)

from tests.helpers import run_cli, tensor, torch_or_skip


def by_name(path_sets):
    return {ps.name: ps for ps in path_sets}


def test_x_times_x_has_two_paths_of_x_each():
    x = Value(3.0, label="x")
    out = x * x
    ps = by_name(gradient_paths(out))["x"]
    assert ps.count == 2 and [p.value for p in ps.paths] == [3.0, 3.0]
    assert ps.total == ps.gradient == 6.0  # d(x^2)/dx = 2x by hand
    assert "as operand a" in ps.paths[0].text(narrate(out).names)


def test_a_plus_a_and_a_weight_used_twice_match_torch():
    torch = torch_or_skip()
    a, w = Value(0.7, label="a"), Value(-1.3, label="w")
    out = ((a + a) * w).tanh() + (w * a).sigmoid()
    ta, tw = tensor(0.7), tensor(-1.3)
    (torch.tanh((ta + ta) * tw) + torch.sigmoid(tw * ta)).backward()
    sets = by_name(gradient_paths(out))
    assert sets["a"].count == 3 and sets["w"].count == 2
    for name, t in (("a", ta), ("w", tw)):
        assert sets[name].total == pytest.approx(t.grad.item(), rel=1e-12)
        assert sets[name].gradient == pytest.approx(t.grad.item(), rel=1e-12)
    assert a.grad == 0.0 and w.grad == 0.0  # the caller's grads are untouched


def test_too_many_paths_are_counted_not_listed():
    x = Value(1.0, label="x")
    y = x
    for _ in range(40):
        y = y + y  # every level doubles the paths: 2**40 in all
    ps = by_name(gradient_paths(y, limit=100))["x"]
    assert ps.count == 2 ** 40 and ps.paths is None and ps.total is None
    assert ps.gradient == 2.0 ** 40  # y = 2**40 * x
    assert "too many to list" in ps.text(narrate(y).names, "L")
    assert gradient_formula(y, limit=100) == {"x": None}


def test_an_input_outside_the_graph_is_refused():
    x, z = Value(2.0, label="x"), Value(5.0, label="z")
    with pytest.raises(ValueError, match="not in the output's graph"):
        gradient_paths(x * 3.0, wrt=[z])


def test_wrt_errors():
    x = Value(2.0, label="x")
    with pytest.raises(ValueError, match="no input labelled 'y'; the inputs are x"):
        gradient_paths(x * x, wrt=["y"])
    with pytest.raises(ValueError, match="limit"):
        gradient_paths(x * x, limit=0)
    with pytest.raises(TypeError, match="Value"):
        gradient_paths(2.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("+*"), st.sampled_from([0, 1, 2]),
                          st.sampled_from([0, 1, 2])), min_size=1, max_size=6),
       st.floats(-2, 2), st.floats(-2, 2))
def test_random_graphs_paths_sum_to_the_gradient(ops, x0, y0):
    torch = torch_or_skip()
    x, y = Value(x0, label="x"), Value(y0, label="y")
    nodes = [x, y, x]
    tx, ty = tensor(x0), tensor(y0)
    tnodes = [tx, ty, tx]
    for op, i, j in ops:
        a, b, ta, tb = nodes[-1 - i], nodes[-1 - j], tnodes[-1 - i], tnodes[-1 - j]
        nodes.append(a + b if op == "+" else a * b)
        tnodes.append(ta + tb if op == "+" else ta * tb)
    out = nodes[-1].tanh()
    torch.tanh(tnodes[-1]).backward()
    counts = count_paths(out)
    for ps in gradient_paths(out, limit=10_000):
        t = {"x": tx, "y": ty}[ps.name]
        expected = t.grad.item() if t.grad is not None else 0.0
        assert ps.count == counts[ps.variable]
        assert ps.total == pytest.approx(expected, rel=1e-9, abs=1e-12)


def evaluate(formula, root):
    """A formula in the nodes' names, evaluated at the nodes' values (test-only eval)."""
    names = narrate(root).names
    space = {name: v.data for v, name in names.items() if name.isidentifier()}
    space.update(exp=math.exp, log=math.log, tanh=math.tanh,
                 sigmoid=lambda z: 1 / (1 + math.exp(-z)))
    return eval(formula, {"__builtins__": {}}, space)


def test_formula_is_the_textbook_one_and_evaluates_to_torch():
    torch = torch_or_skip()
    w, x, b = Value(-1.2, label="w"), Value(0.5, label="x"), Value(0.1, label="b")
    out = (w * x + b).sigmoid()
    formulas = gradient_formula(out)
    assert formulas["w"] == "L * (1 - L) * x"  # the example
    assert formulas["b"] == "L * (1 - L)"
    tw, tx, tb = tensor(-1.2), tensor(0.5), tensor(0.1)
    torch.sigmoid(tw * tx + tb).backward()
    for name, t in (("w", tw), ("x", tx), ("b", tb)):
        assert evaluate(formulas[name], out) == pytest.approx(t.grad.item(), rel=1e-12)


def test_formula_of_shared_and_divided_terms_evaluates_to_torch():
    torch = torch_or_skip()
    x, y = Value(0.8, label="x"), Value(1.7, label="y")
    out = x * x / y + (x * y).exp() - y
    formulas = gradient_formula(out)
    tx, ty = tensor(0.8), tensor(1.7)
    (tx * tx / ty + torch.exp(tx * ty) - ty).backward()
    assert evaluate(formulas["x"], out) == pytest.approx(tx.grad.item(), rel=1e-12)
    assert evaluate(formulas["y"], out) == pytest.approx(ty.grad.item(), rel=1e-12)
    assert "* 1 " not in formulas["x"] + " " and "+ 0" not in formulas["x"]


def test_simplified_formula_with_sympy():
    torch = torch_or_skip()
    sympy = pytest.importorskip("sympy")
    x = Value(0.8, label="x")
    out = x * x + x
    simple = simplified_formula(out)
    assert sympy.simplify(sympy.sympify(simple["x"]) - (2 * sympy.Symbol("x") + 1)) == 0
    w, b = Value(-1.2, label="w"), Value(0.1, label="b")
    neuron = (w * 0.5 + b).sigmoid()
    expr = sympy.sympify(simplified_formula(neuron)["w"])
    tw, tb = tensor(-1.2), tensor(0.1)
    torch.sigmoid(tw * 0.5 + tb).backward()
    value = float(expr.subs({"w": -1.2, "b": 0.1}))
    assert value == pytest.approx(tw.grad.item(), rel=1e-12)


def test_cli_formula_and_paths_print_the_engines_numbers():
    status, out, err = run_cli(["grad", "x*x + a + a", "x=3", "a=0.5", "--paths", "--formula",
                                "--digits", "10"])
    assert status == 0, err
    assert "dL/dx = x + x" in out and "= 2*x   (SymPy)" in out
    assert "dL/da: 2 paths" in out and "dL/dx: 2 paths" in out
    assert "sum of the paths = 6 = dL/dx (backward() gives 6)" in out  # 2x at x = 3
    status, out, _ = run_cli(["grad", "x*x", "x=3", "--paths", "--max-paths", "1"])
    assert status == 0 and "dL/dx: 2 paths, too many to list (more than 1)" in out
    status, _, err = run_cli(["grad", "x*x", "x=3", "--paths", "--max-paths", "0"])
    assert status == 2 and "too small" in err


def test_a_one_hop_path_is_not_multiplied_out():
    # "L -> a: ∂L/∂a = 1 = 1": a product of one factor said its value twice.
    from tests.helpers import run_cli
    status, out, _ = run_cli(["grad", "x*x + a + a", "x=3", "a=0.5", "--paths"])
    assert status == 0 and "    L -> a: ∂L/∂a = 1\n" in out
    assert "∂L/∂(x*x + a) * ∂(x*x + a)/∂a = 1 * 1 = 1\n" in out
