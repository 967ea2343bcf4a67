"""Hand-written forward and backward passes over plain floats: no graph objects at all.

These compute exactly what the engines compute (same data, same weights, same formulas,
the same pairwise tree in W4) and are the reference every engine's numbers are checked
against. They are written the way a careful person writes backprop by hand in Python:
plain lists and loops, nothing vectorised, nothing clever.
"""

from __future__ import annotations

import math

from workloads import (CHAIN_ADD, CHAIN_MUL, CHAIN_STEPS, CHAIN_X0, REG, flat_parameters)


def _sigmoid(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def mlp_step(layers, xs, ys, kind):
    """Loss and gradients (flat, common parameter order) of the W1 ("hinge") or W2 ("mse") step.

    layers: per layer, per neuron (weights, bias). W1: ReLU hidden, linear out, hinge
    loss + REG * sum(p^2); W2: sigmoid everywhere, mean squared error to t = (y + 1) / 2.
    """
    relu_net = kind == "hinge"
    last = len(layers) - 1
    gw = [[[0.0] * len(ws) for ws, _ in layer] for layer in layers]
    gb = [[0.0] * len(layer) for layer in layers]
    n = len(xs)
    total = 0.0
    for x, y in zip(xs, ys):
        # forward: keep every layer's activations for the backward pass
        acts = [x]
        for li, layer in enumerate(layers):
            a_in = acts[-1]
            out = []
            for ws, b in layer:
                net = b
                for w, a in zip(ws, a_in):
                    net += w * a
                if li == last and relu_net:
                    out.append(net)                      # linear output
                elif relu_net:
                    out.append(net if net > 0.0 else 0.0)
                else:
                    out.append(_sigmoid(net))
            acts.append(out)
        score = acts[-1][0]
        # loss of this point and d loss / d score
        if relu_net:
            margin = 1.0 - y * score
            if margin > 0.0:
                total += margin
                d_out = [-y / n]
            else:
                d_out = [0.0]
        else:
            t = (y + 1.0) / 2.0
            err = score - t
            total += err * err
            d_out = [2.0 * err / n]
        # backward: d net = d act * act'(net); dw += d net * a_in; d a_in += d net * w
        for li in range(last, -1, -1):
            layer, a_in, a_out = layers[li], acts[li], acts[li + 1]
            d_in = [0.0] * len(a_in)
            for j, (ws, _) in enumerate(layer):
                a = a_out[j]
                if li == last and relu_net:
                    d_net = d_out[j]
                elif relu_net:
                    d_net = d_out[j] if a > 0.0 else 0.0
                else:
                    d_net = d_out[j] * a * (1.0 - a)
                if d_net == 0.0:
                    continue
                gwj = gw[li][j]
                for i, w in enumerate(ws):
                    gwj[i] += d_net * a_in[i]
                    d_in[i] += d_net * w
                gb[li][j] += d_net
            d_out = d_in
    loss = total / n
    flat = []
    for li, layer in enumerate(layers):
        for j in range(len(layer)):
            flat.extend(gw[li][j])
            flat.append(gb[li][j])
    if relu_net:
        params = flat_parameters(layers)
        loss += REG * sum(p * p for p in params)
        flat = [g + REG * 2.0 * p for g, p in zip(flat, params)]
    return loss, flat


def chain(steps=CHAIN_STEPS):
    """W3: x = x * MUL + ADD, `steps` times; d x_last / d x0 = MUL ** steps, by loop."""
    x = CHAIN_X0
    for _ in range(steps):
        x = x * CHAIN_MUL + CHAIN_ADD
    grad = 1.0
    for _ in range(steps):  # each step's local derivative d x_next / d x is MUL
        grad *= CHAIN_MUL
    return x, [grad]


def products(a, b):
    """W4: sum of a_i * b_i as a pairwise tree; every sum passes its grad to both halves."""
    level = [x * y for x, y in zip(a, b)]
    sizes = []
    while len(level) > 1:
        sizes.append(len(level))
        paired = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    loss = level[0]
    grads = [1.0]
    for size in reversed(sizes):  # push the grads down the tree, level by level
        down = []
        for g in grads[: size // 2]:
            down.append(g)
            down.append(g)
        if size % 2:
            down.append(grads[-1])
        grads = down
    return loss, [g * y for g, y in zip(grads, b)] + [g * x for g, x in zip(grads, a)]
