"""autograd_core.micrograd, micrograd's API on chainrule's engine: micrograd's own tests
(with only the import changed) against PyTorch float64, and the demo notebook's training
loop against micrograd itself (when installed).

Its README's published numbers, without torch (and under PyPy): tests/engine/pure/test_micrograd.py.
"""

import random

import pytest

from tests.helpers import close, torch_or_skip


# ---------------------------------------------- micrograd's own tests, import changed

def test_micrograd_sanity_check():
    torch = torch_or_skip()
    from autograd_core.micrograd import Value
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xmg, ymg = x, y

    x = torch.Tensor([-4.0]).double()
    x.requires_grad = True
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xpt, ypt = x, y

    # forward pass went well
    assert ymg.data == ypt.data.item()
    # backward pass went well
    assert xmg.grad == xpt.grad.item()


def test_micrograd_more_ops():
    torch = torch_or_skip()
    from autograd_core.micrograd import Value
    from tests.micrograd_readme import START, readme_expression
    a = Value(START["a"])
    b = Value(START["b"])
    g = readme_expression(a, b)
    g.backward()
    amg, bmg, gmg = a, b, g

    a = torch.Tensor([START["a"]]).double()
    b = torch.Tensor([START["b"]]).double()
    a.requires_grad = True
    b.requires_grad = True
    g = readme_expression(a, b)
    g.backward()
    apt, bpt, gpt = a, b, g

    tol = 1e-6
    # forward pass went well
    assert abs(gmg.data - gpt.data.item()) < tol
    # backward pass went well
    assert abs(amg.grad - apt.grad.item()) < tol
    assert abs(bmg.grad - bpt.grad.item()) < tol


def test_micrograd_demo_training_loop_matches_micrograd_itself():
    """The demo notebook's loop (make_moons, SVM max-margin loss, L2, SGD) for a few
    steps, once on micrograd and once on autograd_core.micrograd: the same losses."""
    micrograd = pytest.importorskip("micrograd")
    from micrograd.engine import Value as TheirValue
    from micrograd.nn import MLP as TheirMLP
    from sklearn.datasets import make_moons

    from autograd_core.micrograd import MLP, Value
    X, y = make_moons(n_samples=40, noise=0.1, random_state=1)
    y = y * 2 - 1

    def run(Value, MLP):
        random.seed(1337)
        model = MLP(2, [16, 16, 1])
        losses = []
        for k in range(4):
            inputs = [list(map(Value, xrow)) for xrow in X]
            scores = list(map(model, inputs))
            losses_ = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
            data_loss = sum(losses_) * (1.0 / len(losses_))
            alpha = 1e-4
            reg_loss = alpha * sum((p * p for p in model.parameters()))
            total_loss = data_loss + reg_loss
            accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
            model.zero_grad()
            total_loss.backward()
            learning_rate = 1.0 - 0.9 * k / 100
            for p in model.parameters():
                p.data -= learning_rate * p.grad
            losses.append((total_loss.data, sum(accuracy) / len(accuracy)))
        return losses

    assert micrograd is not None
    ours, theirs = run(Value, MLP), run(TheirValue, TheirMLP)
    for (a, acc_a), (b, acc_b) in zip(ours, theirs):
        assert close(a, b, rel=1e-9) and acc_a == acc_b
