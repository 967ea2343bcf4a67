"""A 2-2-2 sigmoid network's forward pass, its gradients (backward() and nn.backprop's
neuron-level deltas) and one gradient-descent step, against the numbers Matt Mazur
published in "A Step by Step Backpropagation Example", to his digits.

Published: E_total = 0.298371109, dE/dw5 = 0.082167041, dE/dw1 = 0.000438568 and after one
step at learning rate 0.5, w1..w8 = 0.149780716, 0.19956143, 0.24975114, 0.29950229,
0.35891648, 0.408666186, 0.511301270, 0.561370121. Biases 0.35 and 0.60 are not trained.
"""

import math

import pytest

import nn
from autograd_core import Value

INPUTS, TARGETS = (0.05, 0.10), (0.01, 0.99)
WEIGHTS = (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)
UPDATED = (0.149780716, 0.19956143, 0.24975114, 0.29950229,
           0.35891648, 0.408666186, 0.511301270, 0.561370121)


def published_tolerance(number):
    """Half a unit in the last published digit, plus float noise."""
    decimals = len(repr(number).split(".")[1])
    return 0.5 * 10 ** -decimals + 1e-12


def error(outs):
    return sum(0.5 * (t - o) ** 2 for t, o in zip(TARGETS, outs))


def explicit_network():
    """The network exactly as drawn in the article, with * and + nodes."""
    w = [Value(x, label=f"w{i}") for i, x in enumerate(WEIGHTS, 1)]
    i1, i2 = INPUTS
    h1 = (w[0] * i1 + w[1] * i2 + 0.35).sigmoid()
    h2 = (w[2] * i1 + w[3] * i2 + 0.35).sigmoid()
    o1 = (w[4] * h1 + w[5] * h2 + 0.60).sigmoid()
    o2 = (w[6] * h1 + w[7] * h2 + 0.60).sigmoid()
    return error([o1, o2]), w


def mlp_network():
    """The same network as nn.MLP(2, [2, 2]) with the article's weights."""
    model = nn.MLP(2, [2, 2])
    neurons = [n for layer in model.layers for n in layer.neurons]
    for n, (wa, wb), bias in zip(neurons, zip(WEIGHTS[::2], WEIGHTS[1::2]), (0.35, 0.35, 0.6, 0.6)):
        n.w[0].data, n.w[1].data, n.b.data = wa, wb, bias
    weights = [w for n in neurons for w in n.w]
    return error(model(list(INPUTS))), weights


@pytest.mark.parametrize("build", [explicit_network, mlp_network])
def test_forward_and_gradients_match_the_article(build):
    E, w = build()
    E.backward()
    assert abs(E.data - 0.298371109) <= published_tolerance(0.298371109)
    assert abs(w[4].grad - 0.082167041) <= published_tolerance(0.082167041)
    assert abs(w[0].grad - 0.000438568) <= published_tolerance(0.000438568)


@pytest.mark.parametrize("build", [explicit_network, mlp_network])
def test_one_gradient_descent_step_matches_the_article(build):
    E, w = build()
    E.backward()
    nn.SGD(w, lr=0.5).step()
    for i, (got, want) in enumerate(zip((v.data for v in w), UPDATED), 1):
        assert abs(got - want) <= published_tolerance(want), (f"w{i}", got, want)


def test_delta_rules_hold_in_the_engine():
    """delta_o = (o - t) sigma'(net_o); delta_h = sigma'(net_h) sum_l w_hl delta_l."""
    E, w = explicit_network()
    E.backward()
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    i1, i2 = INPUTS
    h1 = sig(0.15 * i1 + 0.20 * i2 + 0.35)
    h2 = sig(0.25 * i1 + 0.30 * i2 + 0.35)
    o1 = sig(0.40 * h1 + 0.45 * h2 + 0.60)
    o2 = sig(0.50 * h1 + 0.55 * h2 + 0.60)
    d_o1 = (o1 - TARGETS[0]) * o1 * (1 - o1)
    d_o2 = (o2 - TARGETS[1]) * o2 * (1 - o2)
    d_h1 = h1 * (1 - h1) * (0.40 * d_o1 + 0.50 * d_o2)
    assert math.isclose(w[4].grad, d_o1 * h1, rel_tol=1e-12)   # dE/dw5 = delta_o1 * out_h1
    assert math.isclose(w[0].grad, d_h1 * i1, rel_tol=1e-12)   # dE/dw1 = delta_h1 * i1


def test_neuron_level_backward_gives_the_published_gradients():
    """nn.neuron_backward's delta rules on his network give his dE/dw5 and dE/dw1, and one
    step with them his updated weights."""
    from nn.backprop import neuron_backward
    model = nn.MLP(2, [2, 2])
    neurons = [n for layer in model.layers for n in layer.neurons]
    for n, (wa, wb), bias in zip(neurons, zip(WEIGHTS[::2], WEIGHTS[1::2]), (0.35, 0.35, 0.6, 0.6)):
        n.w[0].data, n.w[1].data, n.b.data = wa, wb, bias
    r = neuron_backward(model, list(INPUTS), list(TARGETS))
    assert abs(r.cost - 0.298371109) <= published_tolerance(0.298371109)
    grads = [g for row in r.weight_grads[1] + r.weight_grads[2] for g in row]
    assert abs(grads[4] - 0.082167041) <= published_tolerance(0.082167041)
    assert abs(grads[0] - 0.000438568) <= published_tolerance(0.000438568)
    for g, w, want in zip(grads, WEIGHTS, UPDATED):
        assert abs(w - 0.5 * g - want) <= published_tolerance(want)
