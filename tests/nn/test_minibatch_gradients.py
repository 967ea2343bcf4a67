"""A network's gradients over a mini-batch: the scalar engine and matrix backpropagation
(numpy, the oracle) are the same computation.

For a sigmoid network trained with cross-entropy on a mini-batch of B examples, this
test computes the gradients twice:

1. with the engine: one Value per number, `loss.backward()`;
2. with numpy, as the textbook writes backprop for a whole batch at once. Examples are
   the columns of A_0 (nin x B). Forward:
       net_l = W_l A_{l-1} + b_l 1^T,   A_l = sigma(net_l).
   The cost is the mean cross-entropy over the N = B * K outputs. At the output,
   sigmoid and cross-entropy together give the famous
       delta_L = dC/dnet_L = (Z - T) / N       (Z = A_L; N = B when K = 1)
   and going back one layer at a time,
       delta_l = (W_{l+1}^T delta_{l+1}) * sigma'(net_l),   sigma' = A_l (1 - A_l),
       dC/dW_l = delta_l A_{l-1}^T,   dC/db_l = delta_l 1.

Why this is a product of Jacobians: for one example the Jacobian of layer l's output
with respect to its input is d a_l / d a_{l-1} = diag(sigma'(net_l)) W_l, and the chain
rule says dC/da_{l-1} = dC/da_l . diag(sigma'(net_l)) . W_l. Transposed, and with the
diagonal matrix written as the elementwise product, that is the delta_l line above, so
backprop multiplies the output's gradient by the layers' Jacobians from the output
inwards. The B columns are B independent examples stacked side by side, and
delta_l A_{l-1}^T adds up their outer products, the gradient of the batch's mean cost.

The engine does exactly these multiply-adds, one scalar at a time: a neuron's `wsum`
node has local derivatives x_i (entries of A_{l-1}, for the weights) and w_i (entries
of W_l, for the inputs), each `sigmoid` node has sigma'(net), a diagonal entry of the
Jacobian, and backward() adds local * upstream along every edge. The two results agree
to rounding (1e-12).
"""

import random

import numpy as np
import pytest

from nn import MLP, bce_with_logits, binary_cross_entropy


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def matrix_backprop(weights, biases, X, T):
    """Gradients of the mean cross-entropy of sigmoid outputs, for the batch X (B x nin).

    weights[l] is W_l (n_l x n_{l-1}), biases[l] is b_l (n_l). Returns (dW, db) lists.
    """
    A = [X.T]                                 # A_0: one column per example
    for W, b in zip(weights, biases):
        A.append(sigmoid(W @ A[-1] + b[:, None]))
    Z = A[-1]
    delta = (Z - T.T) / Z.size                # output layer: sigmoid + cross-entropy
    dW, db = [None] * len(weights), [None] * len(weights)
    for l in reversed(range(len(weights))):
        dW[l] = delta @ A[l].T                # the weights' gradient, summed over the batch
        db[l] = delta.sum(axis=1)
        if l:
            a = A[l]
            delta = (weights[l].T @ delta) * a * (1.0 - a)   # one Jacobian further back
    return dW, db


def engine_gradients(model, X, T, output):
    """The engine's gradient of the same cost, in the model's parameter order."""
    outs = [model(x) for x in X]
    outs = [o if isinstance(o, list) else [o] for o in outs]
    flat_out = [z for row in outs for z in row]
    flat_t = [t for row in T for t in row]
    if output == "sigmoid":
        loss = binary_cross_entropy(flat_out, flat_t)
    else:  # linear output: the logits, and the stable loss of the same cost
        loss = bce_with_logits(flat_out, flat_t)
    model.zero_grad()
    loss.backward()
    return [p.grad for p in model.parameters()]


@pytest.mark.parametrize("sizes", [[2, 3, 1], [3, 4, 2], [3, 4, 4, 2]],
                         ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("output", ["sigmoid", "linear"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_engine_gradients_equal_matrix_backprop(sizes, output, seed):
    rng = random.Random(seed)
    batch = 5
    model = MLP(sizes[0], sizes[1:], activation="sigmoid", output_activation=output,
                seed=seed)
    X = [[rng.uniform(-2, 2) for _ in range(sizes[0])] for _ in range(batch)]
    T = [[float(rng.random() < 0.5) for _ in range(sizes[-1])] for _ in range(batch)]

    weights = [np.array([[w.data for w in n.w] for n in layer.neurons])
               for layer in model.layers]
    biases = [np.array([n.b.data for n in layer.neurons]) for layer in model.layers]
    dW, db = matrix_backprop(weights, biases, np.array(X), np.array(T))

    # Lay the matrices out in the engine's order: layer, neuron (row), weights then bias.
    expected = [g for l in range(len(dW)) for i in range(dW[l].shape[0])
                for g in list(dW[l][i]) + [db[l][i]]]
    got = engine_gradients(model, X, T, output)
    assert len(got) == len(expected)
    assert np.allclose(got, expected, rtol=0, atol=1e-12), \
        max(abs(a - b) for a, b in zip(got, expected))
    assert max(abs(g) for g in got) > 1e-3  # a real gradient, not everything near zero


def test_the_output_delta_is_z_minus_t_over_b():
    """2-3-1, batch of 5: dC/dnet at the output is (Z - T) / B for each example."""
    rng = random.Random(4)
    model = MLP(2, [3, 1], activation="sigmoid", seed=4)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(5)]
    T = [1.0, 0.0, 1.0, 1.0, 0.0]
    nets = []
    outs = []
    for x in X:
        z = model(x)
        nets.append(z.parents[0])  # the sigmoid's input: the output neuron's wsum
        outs.append(z)
    loss = binary_cross_entropy(outs, T)
    loss.backward()
    for net, z, t in zip(nets, outs, T):
        assert abs(net.grad - (z.data - t) / 5) < 1e-15
