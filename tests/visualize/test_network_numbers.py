"""draw_network writes its numbers with the one format (autograd_core.numbers): a tiny
delta reads 2.1e-6, as on every other picture and page, not Python's 2.1e-06."""

import re

import nn
from autograd_core.numbers import format_number
from visualize import draw_network


def test_a_tiny_delta_is_written_as_everywhere_else():
    model = nn.MLP(2, [16, 16, 1], seed=0)  # the docs picture: some deltas are ~1e-5
    x = [0.5, -1.0]
    source = draw_network(model, x, target=1.0).source
    layers = model.forward(x)
    nn.sse_loss(layers[-1], 1.0).backward()
    labels = dict(re.findall(r'^\s*(L\d+_\d+) \[label="((?:[^"\\]|\\.)*)"', source, re.M))
    shown = []
    for layer in range(1, len(layers)):
        for j, value in enumerate(layers[layer]):
            if f"L{layer}_{j}" in labels:
                delta = nn.Neuron.net_of(value).grad  # dC/dnet from backward()
                assert f"δ {format_number(delta, 3)}" in labels[f"L{layer}_{j}"]
                shown.append(format_number(delta, 3))
    assert any("e-" in text for text in shown)  # the case this is about occurs
    assert not re.search(r"\de[-+]0\d", source)  # no 2.1e-06, no 1e+03
