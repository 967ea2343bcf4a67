"""backward()'s mechanics: order, accumulation, shared nodes, depth, and the trace."""

import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from autograd_core import (NonFiniteGradientError, Value, gradcheck, grad, topological_order,
                           trace_backward)
from autograd_core.steps import ChainRule
from tests.strategies import build, programs


def close(a, b, rel=1e-9, abs_=1e-12):
    return abs(a - b) <= abs_ + rel * abs(b)


def test_node_used_twice_gets_both_contributions():
    x = Value(3.0)
    y = x * x
    y.backward()
    assert x.grad == 6.0
    a = Value(2.0)
    s = a + a
    s.backward()
    assert a.grad == 2.0 and s.parents == (a, a)


def test_leaves_accumulate_and_intermediates_restart():
    x = Value(2.0)
    h = x * 3.0
    y = h * h
    y.backward()
    first = (x.grad, h.grad)
    y.backward()
    assert x.grad == 2 * first[0]  # leaves accumulate, as in PyTorch
    assert h.grad == first[1]      # non-leaf grads show the latest pass only
    x.grad = 0.0
    y.backward()
    assert x.grad == first[0]


def test_backward_on_a_leaf_seeds_it():
    x = Value(5.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_topological_order_has_each_node_once_parents_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    dc = d * c
    e = dc + b
    order = topological_order(e)
    assert len(order) == len(set(map(id, order))) == 6
    assert {id(v) for v in order} == {id(v) for v in (a, b, c, d, dc, e)}
    assert order[-1] is e
    position = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for p in v.parents:
            assert position[id(p)] < position[id(v)]


def test_topological_order_rejects_non_values():
    with pytest.raises(TypeError, match="Value"):
        topological_order(3.0)


def test_million_node_chain_in_a_fresh_process():
    """1,000,000 nodes deep, with Python's default recursion limit."""
    code = (
        "import sys\n"
        "from autograd_core import Value\n"
        "assert sys.getrecursionlimit() <= 1000\n"
        "x = Value(1.0)\n"
        "y = x\n"
        "for _ in range(1_000_000):\n"
        "    y = y.tanh()\n"
        "y.backward()\n"
        "print(repr(y.data), repr(x.grad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    data, grad = map(float, out.stdout.split())
    # Oracle: the same recurrence with plain floats, y' = tanh(y), dy'/dy = 1 - y'^2.
    y, g = 1.0, 1.0
    import math
    for _ in range(1_000_000):
        y = math.tanh(y)
        g *= 1.0 - y * y
    assert data == y and close(grad, g, rel=1e-9, abs_=1e-300)


def test_trace_backward_equals_backward():
    def build():
        w, x, b = Value(-1.2, "w"), Value(0.5, "x"), Value(0.1, "b")
        z = (w * x + b).sigmoid() * x + x ** 2
        return z, (w, x, b)
    z1, leaves1 = build()
    z1.backward()
    z2, leaves2 = build()
    steps = list(trace_backward(z2))
    assert [v.grad for v in leaves2] == [v.grad for v in leaves1]
    nodes1 = topological_order(z1)
    nodes2 = topological_order(z2)
    assert [v.grad for v in nodes2] == [v.grad for v in nodes1]
    # every edge of the graph is one step, numbered in order
    assert len(steps) == sum(len(v.parents) for v in nodes2)
    assert [s.number for s in steps] == list(range(1, len(steps) + 1))
    for s in steps:
        assert s.contribution == s.upstream * s.local
        assert s.parent is s.node.parents[s.index] and s.local == s.node.local_grads[s.index]


def test_trace_steps_show_the_gradient_filling_in():
    x = Value(3.0, "x")
    y = x * x
    seen = [(s.contribution, x.grad) for s in trace_backward(y)]
    assert seen == [(3.0, 3.0), (3.0, 6.0)]


def test_trace_upstream_is_complete_when_a_node_is_visited():
    x = Value(0.3)
    h = x.tanh()
    y = h * h + h  # h feeds two nodes: its gradient is complete only after both
    seen = 0
    for step in trace_backward(y):
        assert step.upstream == step.node.grad  # upstream is node.grad at that moment
        if step.node is h:
            seen += 1
            assert close(step.upstream, 2 * h.data + 1)
    assert seen == 1


def test_gradcheck_passes_and_returns_analytic_gradients():
    grads = gradcheck(lambda v: (v[0] * v[1]).sigmoid() + v[0] ** 2, [0.5, -1.5])
    s = 1 / (1 + __import__("math").exp(0.75))
    assert len(grads) == 2
    assert close(grads[0], s * (1 - s) * -1.5 + 1.0, rel=1e-12)
    assert close(grads[1], s * (1 - s) * 0.5, rel=1e-12)


def test_gradcheck_catches_a_corrupted_local_derivative_and_names_the_input():
    def f(v):
        out = v[0] * v[1] + v[2]
        product = out.parents[0]
        product.local_grads = (product.local_grads[0] * 1.01, product.local_grads[1])
        return out
    with pytest.raises(AssertionError) as info:
        gradcheck(f, [0.5, 2.0, 1.0])
    message = str(info.value)
    assert "input 0" in message and "input 1" not in message and "input 2" not in message
    assert "2.02" in message and "finite differences" in message


def test_gradcheck_bad_arguments():
    with pytest.raises(TypeError, match="return a Value"):
        gradcheck(lambda v: 3.0, [1.0])
    with pytest.raises(TypeError, match="numbers"):
        gradcheck(lambda v: v[0], ["a"])
    with pytest.raises(ValueError, match="at least one"):
        gradcheck(lambda v: v[0], [])


def test_no_per_node_dict_or_closure():
    v = Value(1.0) * 2.0
    assert not hasattr(v, "__dict__")
    # parents and local derivatives in slots (no tuples for one or two parents); op and
    # label share one slot
    assert set(Value.__slots__) == {"data", "grad", "_a", "_da", "_b", "_db", "_op_label"}
    constant = Value(1.0, requires_grad=False)
    assert not hasattr(constant, "__dict__") and type(constant).__slots__ == ()


def test_engine_imports_nothing_outside_the_standard_library():
    code = ("import sys\n"
            "before = set(sys.modules)\n"
            "import autograd_core\n"
            "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
            "print(' '.join(sorted(new)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    third_party = [m for m in out.stdout.split() if m != "autograd_core" and _installed(m)]
    assert third_party == [], third_party


def _installed(name):
    """True for a module that pip installed (site-packages), not the standard library."""
    import importlib.util
    spec = importlib.util.find_spec(name)
    origin = (spec.origin or "") if spec else ""
    return "site-packages" in origin or "dist-packages" in origin


def test_repr_is_informative():
    v = Value(2.0, label="w") * 3
    assert repr(v) == "Value(data=6.0, grad=0.0, op='*')"
    assert "label='w'" in repr(Value(2.0, label="w"))


def test_gradcheck_lists_every_disagreeing_input_and_honours_its_tolerances():
    def f(v):
        out = v[0] * v[1] * v[2]
        first = out.parents[0]  # v0 * v1
        first.local_grads = (first.local_grads[0] + 1e-3, first.local_grads[1] + 1e-3)
        return out
    with pytest.raises(AssertionError) as info:
        gradcheck(f, [0.5, 2.0, 1.0])
    message = str(info.value)
    assert "input 0" in message and "input 1" in message and "input 2" not in message
    gradcheck(f, [0.5, 2.0, 1.0], atol=1e-2)        # a loose tolerance lets it pass
    gradcheck(f, [0.5, 2.0, 1.0], rtol=1e-2, atol=0)


def test_a_step_knows_its_parent_gradient_before_and_after():
    x = Value(3.0, "x")
    x.grad = 1.0  # a leaf accumulates across passes: its first step starts from here
    y = x * x
    seen = [(s.before, s.after, x.grad) for s in trace_backward(y)]
    assert seen == [(1.0, 4.0, 4.0), (4.0, 7.0, 7.0)]


def test_backward_grad_and_trace_name_the_same_chain_rule_step():
    # The branch through u gets gradient 0 and its steps come first: they count in
    # every numbering alike, so the error's step N is step N of trace_backward.
    def build():
        x, p = Value(0.0, "x"), Value(2.0, "p")
        u = (p * p) * Value(0.0)
        return x, (u + 1.0) * (x * 1e308 * 10)

    messages = []
    for run in (lambda L, x: L.backward(), lambda L, x: grad(L, [x]),
                lambda L, x: list(trace_backward(L))):
        x, L = build()
        with pytest.raises(NonFiniteGradientError) as info:
            run(L, x)
        messages.append(str(info.value).split(": ", 1)[1])
    assert messages[0] == messages[1] == messages[2]
    x, L = build()
    steps = []
    with pytest.raises(NonFiniteGradientError):
        steps.extend(trace_backward(L))
    first_inf = next(s for s in steps if s.after == math.inf)
    assert f"chain-rule step {first_inf.number}," in messages[0]
    assert any(s.upstream == 0.0 for s in steps[:first_inf.number - 1])


def test_a_kept_leaf_gradient_that_overflows_is_the_error_not_a_crash():
    x = Value(1.0, "x")
    x.grad = 1.7e308
    y = x * 1e308  # this pass adds a finite 1e308; the kept sum is inf
    with pytest.raises(NonFiniteGradientError, match="gradient of 'x'.*step 1,"):
        y.backward()
    assert x.grad == 1.7e308


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.sampled_from([0.0, 1.0, math.inf, -math.inf, 1e308]))
def test_running_the_chain_rule_takes_the_same_steps_as_iterating_it(program, leaf_start):
    """ChainRule.run (grad() and backward()'s inf/nan path) adds up without a Step per
    edge; it must give exactly the sums, and the first bad step, that iterating gives,
    also when a kept leaf gradient is already infinite or near the top of the floats."""
    values, steps = program
    out, inputs = build(values, steps, replace_errors=True)
    order = [node for node in topological_order(out) if node.requires_grad]
    start = [(leaf, leaf_start) for leaf in inputs]
    iterated = ChainRule(out, order, start)
    taken = list(iterated)
    assert [step.number for step in taken] == list(range(1, len(taken) + 1))
    ran = ChainRule(out, order, start).run()
    assert set(ran.grads) == set(iterated.grads)
    for node, total in iterated.grads.items():
        assert repr(ran.grads[node]) == repr(total)  # bit for bit, signs of zero and nan too
    if iterated.first_bad is None:
        assert ran.first_bad is None
    else:
        bad = ran.first_bad
        assert (bad.number, bad.node, bad.parent, bad.index) == (
            iterated.first_bad.number, iterated.first_bad.node, iterated.first_bad.parent,
            iterated.first_bad.index)
        assert repr(bad.after) == repr(iterated.first_bad.after)


def test_running_and_iterating_both_pass_nothing_through_a_zero_against_an_infinity():
    w = Value(-1.0, label="w")
    z = w.relu()                 # 0, with d z/d w = 0 (relu's dead side)
    out = (z * 1e300) * 1e300    # 0, but d out/d z = 1e600 = inf
    order = [node for node in topological_order(out) if node.requires_grad]
    ran = ChainRule(out, order).run()
    iterated = ChainRule(out, order)
    steps = list(iterated)
    assert ran.grads[z] == iterated.grads[z] == math.inf
    assert ran.grads[w] == iterated.grads[w] == 0.0   # inf * 0 would be nan
    assert steps[-1].contribution == 0.0


# ------------------------------------------------------------------ PyPy regression

def numeric(f, xs, i, eps=1e-6):
    plus = list(xs)
    minus = list(xs)
    plus[i] += eps
    minus[i] -= eps
    return (f(plus) - f(minus)) / (2 * eps)


def test_backward_gives_real_gradients_with_no_identity_tricks():
    """On PyPy backward() gave 0.0 everywhere (float identity marks); a plain order now."""
    x, y = Value(1.5), Value(-0.5)
    out = (x * y + x.tanh()) * (y - 2.0)
    out.backward()
    f = lambda v: (v[0] * v[1] + math.tanh(v[0])) * (v[1] - 2.0)  # noqa: E731
    assert close(x.grad, numeric(f, [1.5, -0.5], 0), rel=1e-7)
    assert close(y.grad, numeric(f, [1.5, -0.5], 1), rel=1e-7)
    assert x.grad != 0.0 and y.grad != 0.0
