"""The batch compile fuses a layer because the op table's row says so (Op.batch_layout),
not because the row's text matches a copy of it: the same maths spelled another way
still becomes matrix products, and the field alone switches fusion off."""

import math

import pytest

from autograd_core import Value, compile, ops, weighted_sum

np = pytest.importorskip("numpy")

PARAMS = 3 * 3 + 4  # three tanh neurons over (x1, x2), one linear output neuron


def loss_of(params, sample):
    x1, x2, y = sample
    hidden = [weighted_sum(params[3 * j:3 * j + 2], (x1, x2), params[3 * j + 2]).tanh()
              for j in range(3)]
    out = weighted_sum(params[9:12], hidden, params[12])
    return (out - y) ** 2


COLUMNS = [[0.5, -1.0, 2.0, 0.25], [1.5, 0.3, -0.7, 0.0], [0.2, -0.4, 1.0, 0.9]]
START = [math.sin(1.3 * i + 0.2) for i in range(PARAMS)]


def compiled():
    params = [Value(v) for v in START]
    holders = [Value(0.0, label=name) for name in ("x1", "x2", "y")]
    f = compile(loss_of(params, holders), params, batch=holders)
    return f, f(START, COLUMNS)


def eager():
    """The oracle: one graph per sample sharing the parameters, mean loss, backward()."""
    params = [Value(v) for v in START]
    n = len(COLUMNS[0])
    losses = [loss_of(params, [Value(c[i]) for c in COLUMNS]) for i in range(n)]
    total = losses[0]
    for loss in losses[1:]:
        total = total + loss
    mean = total / n
    mean.backward()
    return mean.data, [p.grad for p in params]


def same_numbers(got, expected):
    (loss, grads), (loss_e, grads_e) = got, expected
    assert math.isclose(loss, loss_e, rel_tol=1e-12, abs_tol=1e-15)
    assert all(math.isclose(g, e, rel_tol=1e-9, abs_tol=1e-12) for g, e in zip(grads, grads_e))


@pytest.fixture
def fresh_expansions(monkeypatch):
    """A row edited in a test is expanded anew, and the table's own expansions come back."""
    monkeypatch.setattr(ops, "_EXPANSIONS", {})


def test_the_weighted_sum_row_declares_the_layer_layout():
    assert [info.name for info in ops.OPS.values() if info.batch_layout == "layer"] == ["wsum"]
    assert [info.name for info in ops.OPS.values() if info.batch_layout == "total"] == ["sum"]


def test_the_same_row_spelled_another_way_is_still_fused(monkeypatch, fresh_expansions):
    # The writer used to find the row by comparing its text with a copy of it: this
    # spelling of the same sum silently turned layer fusion off.
    monkeypatch.setattr(ops.OPS["wsum"], "forward", "b + fsum(x_i * w_i)")
    f, numbers = compiled()
    assert "@ W1.T" in f.source and "@ W2.T" in f.source
    same_numbers(numbers, eager())


def test_without_the_field_every_neuron_is_its_own_column(monkeypatch, fresh_expansions):
    monkeypatch.setattr(ops.OPS["wsum"], "batch_layout", None)
    f, numbers = compiled()
    assert "@ W1.T" not in f.source
    same_numbers(numbers, eager())


def test_a_row_with_an_unknown_layout_is_refused_when_declared():
    with pytest.raises(ValueError, match="batch_layout is one of layer, total or None"):
        ops.Op("twice", "2 * a", {"a": "2"}, batch_layout="matrix")
