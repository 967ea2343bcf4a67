"""The benchmark's workloads as plain data: the same numbers for every engine.

Everything here is pure Python with fixed seeds, so each engine's process rebuilds
exactly the same points, labels and initial weights:

W1  micrograd's demo step: 100 two-moons points, MLP 2-16-16-1, ReLU hidden layers,
    linear output, loss = mean(relu(1 - y * score)) + 1e-4 * sum(p^2), y in {-1, +1}.
W2  the same points and weights, sigmoid on every layer, loss = mean((out - t)^2),
    t in {0, 1} (no weight penalty).
W1-10k, W2-10k  W1 and W2 on 10,000 two-moons points (the batch compile's scale).
W3  a chain of CHAIN_STEPS steps x = x * 0.9999 + 0.0001 from x0 = 0.5; the loss is
    the last x and the gradient is d loss / d x0.
W4  the sum of PRODUCTS products a_i * b_i, added as a pairwise tree (level by level,
    neighbours pairwise, an odd last element carried up); gradients for every a_i, b_i.
"""

from __future__ import annotations

import math
import random

SIZES = (2, 16, 16, 1)
POINTS = 100
REG = 1e-4
CHAIN_STEPS = 1_000_000
CHAIN_MUL, CHAIN_ADD, CHAIN_X0 = 0.9999, 0.0001, 0.5
PRODUCTS = 200_000
MEMORY_NODES = 200_000  # the graph whose bytes per node are measured
# The network workloads: name -> (loss kind, number of points).
MLP_WORKLOADS = {"W1": ("hinge", POINTS), "W2": ("mse", POINTS),
                 "W1-10k": ("hinge", 10_000), "W2-10k": ("mse", 10_000)}


def two_moons(n=POINTS, noise=0.1, seed=1):
    """n points on two interleaved half circles (as sklearn's make_moons), labels +-1."""
    rng = random.Random(seed)
    half = n // 2
    xs, ys = [], []
    for i in range(n):
        upper = i < half
        k, m = (i, half) if upper else (i - half, n - half)
        t = math.pi * k / (m - 1)
        if upper:
            x, y = math.cos(t), math.sin(t)
        else:
            x, y = 1.0 - math.cos(t), 0.5 - math.sin(t)
        xs.append([x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)])
        ys.append(1.0 if upper else -1.0)
    return xs, ys


def initial_weights(seed=1337):
    """Per layer, per neuron: (weights, bias); weights uniform(-1, 1) as micrograd, bias 0.1."""
    rng = random.Random(seed)
    layers = []
    for nin, nout in zip(SIZES, SIZES[1:]):
        layers.append([([rng.uniform(-1.0, 1.0) for _ in range(nin)], 0.1) for _ in range(nout)])
    return layers


def flat_parameters(layers):
    """Parameters in the common order: layer by layer, neuron by neuron, weights then bias."""
    return [p for layer in layers for ws, b in layer for p in (*ws, b)]


def product_factors(n=PRODUCTS, seed=7):
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in range(n)], [rng.uniform(-1.0, 1.0) for _ in range(n)]


def pairwise_sum(items, add):
    """Reduce a list with `add` as a balanced tree; the same tree for every engine."""
    level = list(items)
    while len(level) > 1:
        paired = [add(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
