"""Worked examples for class: one neuron's chain rule, and Mazur's 2-2-2 network.

Every number shown is read off the engine (a node's `.local_grads` or `.grad` after
`backward()`), then checked against the closed form from the textbook; if the two
disagree the demo raises `DemoCheckError` instead of printing a wrong lesson.

Each demo returns the text to print and a dict of the numbers behind it, so tests and
notebooks can use the numbers without parsing text.
"""

from __future__ import annotations

import math

from autograd_core import Value
from autograd_core.numbers import exact_number

__all__ = ["DemoCheckError", "neuron_demo", "mazur_demo", "mazur_model", "mazur_network",
           "softmax_demo", "MAZUR_PUBLISHED"]

# Matt Mazur, "A Step by Step Backpropagation Example" (2015): the published numbers.
MAZUR_INPUTS = (0.05, 0.10)
MAZUR_TARGETS = (0.01, 0.99)
MAZUR_WEIGHTS = (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)
MAZUR_BIASES = (0.35, 0.60)
MAZUR_RATE = 0.5
MAZUR_PUBLISHED = {
    # forward pass
    "net_h1": "0.3775", "out_h1": "0.593269992", "out_h2": "0.596884378",
    "net_o1": "1.105905967", "out_o1": "0.75136507", "out_o2": "0.772928465",
    "E_o1": "0.274811083", "E_o2": "0.023560026", "E_total": "0.298371109",
    # backward pass
    "dE/dw5": "0.082167041", "dE/dw1": "0.000438568",
    # after one step of gradient descent
    "w1": "0.149780716", "w2": "0.19956143", "w3": "0.24975114", "w4": "0.29950229",
    "w5": "0.35891648", "w6": "0.408666186", "w7": "0.511301270", "w8": "0.561370121",
}


class DemoCheckError(AssertionError):
    """The engine and the closed form disagree: a bug, never a teaching point."""


def _check(what, engine, closed_form, rtol=1e-12, atol=1e-15):
    if not abs(engine - closed_form) <= atol + rtol * abs(closed_form):
        raise DemoCheckError(f"{what}: the engine gives {engine!r} but the closed form gives "
                             f"{closed_form!r}")
    return engine


def _finite(name, x):
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return float(x)


def _shown(digits):
    """How a number is printed: the project's one format (significant figures, so
    6e-6 is 6e-6, not 0.0000)."""
    from autograd_core.numbers import format_number
    return lambda x: format_number(x, digits)


# ------------------------------------------------------------------------ one neuron

def neuron_demo(W=0.6, X=1.5, t=1.0, digits=4):
    """J = L(h(g(W))) for one sigmoid neuron, with cross-entropy and quadratic costs.

    Returns (text, numbers). Raises ValueError for inputs the derivation cannot use
    (t outside [0, 1]; a neuron so saturated that log(Z) or log(1 - Z) is infinite).
    """
    W, X, t = _finite("W", W), _finite("X", X), _finite("t", t)
    if not 0.0 <= t <= 1.0:
        raise ValueError("the target t must lie in [0, 1] (it is a probability), got "
                         f"{exact_number(t)}")
    f = _shown(digits)

    # --- cross-entropy: J = -(t log Z + (1 - t) log(1 - Z))
    w = Value(W, label="W")
    Y = w * X                       # g
    Y.label = "Y"
    Z = Y.sigmoid()                 # h
    Z.label = "Z"
    z = Z.data
    if not 0.0 < z < 1.0:
        raise ValueError(f"sigmoid(W*X) = sigmoid({exact_number(Y.data)}) rounds to "
                         f"{exact_number(z)}, so the cross-entropy is infinite; use a "
                         "smaller |W*X|")
    J = -(t * Z.log() + (1.0 - t) * (1.0 - Z).log())   # L
    J.label = "J"
    J.backward()

    # The three factors as the engine stored them. dZ/dY and dY/dW are the local
    # derivatives recorded in the forward pass; dJ/dZ is the gradient that reached Z
    # through the loss's own nodes.
    dJ_dZ = _check("dJ/dZ", Z.grad, -t / z + (1.0 - t) / (1.0 - z))
    dZ_dY = _check("dZ/dY", Z.local_grads[0], z * (1.0 - z))
    dY_dW = _check("dY/dW", Y.local_grads[0], X)
    product = dJ_dZ * dZ_dY * dY_dW
    _check("dJ/dW (engine) vs the product of the factors", w.grad, product, rtol=1e-9)
    _check("dJ/dY = Z - t", Y.grad, z - t, rtol=1e-9, atol=1e-12)
    _check("dJ/dW = (Z - t) X", w.grad, (z - t) * X, rtol=1e-9, atol=1e-12)
    numbers = {"Y": Y.data, "Z": z, "J": J.data, "dJ/dZ": dJ_dZ, "dZ/dY": dZ_dY,
               "dY/dW": dY_dW, "dJ/dW": w.grad, "dJ/dY": Y.grad}

    lines = [
        "One neuron, one weight:  J = L(h(g(W)))",
        "  g:  Y = W * X                               (net input)",
        "  h:  Z = sigmoid(Y)                          (activation)",
        "  L:  J = -(t log Z + (1 - t) log(1 - Z))     (cross-entropy against target t)",
        f"  with W = {f(W)}, X = {f(X)}, t = {f(t)}",
        "",
        "Forward pass:",
        f"  Y = W * X = {f(W)} * {f(X)} = {f(Y.data)}",
        f"  Z = sigmoid(Y) = {f(z)}",
        f"  J = {f(J.data)}",
        "",
        "Backward pass, chain rule:  dJ/dW = dJ/dZ * dZ/dY * dY/dW",
        f"  dJ/dZ = -t/Z + (1 - t)/(1 - Z)  = {f(dJ_dZ)}",
        f"  dZ/dY = Z (1 - Z)               = {f(dZ_dY)}",
        f"  dY/dW = X                       = {f(dY_dW)}",
        f"  dJ/dW = {f(dJ_dZ)} * {f(dZ_dY)} * {f(dY_dW)} = {f(product)}"
        f"   (engine's W.grad: {f(w.grad)})",
        "",
        "The simplification:  dJ/dY = dJ/dZ * dZ/dY",
        "    = (-t/Z + (1 - t)/(1 - Z)) * Z (1 - Z) = -t (1 - Z) + (1 - t) Z = Z - t",
        f"  engine: dJ/dY = {f(Y.grad)};  Z - t = {f(z)} - {f(t)} = {f(z - t)}",
        f"  so dJ/dW = (Z - t) * X = {f(z - t)} * {f(X)} = {f((z - t) * X)}",
        "  The sigmoid's slope Z (1 - Z) cancels: the error signal is just Z - t.",
    ]

    # --- quadratic cost: C = 1/2 (a - y)^2, a = sigmoid(net), net = W X
    w2 = Value(W, label="W")
    net = w2 * X
    net.label = "net"
    a = net.sigmoid()
    a.label = "a"
    C = 0.5 * (a - t) ** 2
    C.label = "C"
    C.backward()
    ad = a.data
    dC_da = _check("dC/da = a - y", a.grad, ad - t, rtol=1e-12, atol=1e-15)
    sigma_prime = _check("sigma'(net) = a (1 - a)", a.local_grads[0], ad * (1.0 - ad))
    delta = _check("delta = dC/dnet = (a - y) sigma'(net)", net.grad, (ad - t) * ad * (1.0 - ad),
                   rtol=1e-9, atol=1e-15)
    _check("dC/dW = delta * X", w2.grad, delta * X, rtol=1e-9, atol=1e-15)
    numbers.update({"a": ad, "C": C.data, "dC/da": dC_da, "sigma'(net)": sigma_prime,
                    "delta": delta, "dC/dW": w2.grad})
    lines += [
        "",
        "The same neuron with the quadratic cost  C = 1/2 (a - y)^2  (a = Z, y = t):",
        f"  net = W * X = {f(net.data)},  a = sigmoid(net) = {f(ad)},  C = {f(C.data)}",
        "  delta = dC/dnet = dC/da * da/dnet = (a - y) * sigma'(net)",
        f"    dC/da       = a - y      = {f(dC_da)}",
        f"    sigma'(net) = a (1 - a)  = {f(sigma_prime)}",
        f"    delta       = {f(dC_da)} * {f(sigma_prime)} = {f(delta)}"
        f"   (engine's net.grad: {f(net.grad)})",
        f"  dC/dW = delta * X = {f(delta)} * {f(X)} = {f(w2.grad)}",
        f"  Here sigma'(net) = {f(sigma_prime)} stays in the product: when the neuron "
        "saturates",
        "  (a near 0 or 1) it is tiny and the quadratic cost learns slowly; the "
        "cross-entropy's",
        f"  delta Z - t = {f(z - t)} does not have that factor.",
        "",
        "All numbers above come from the engine and were checked against these formulas.",
    ]
    return "\n".join(lines), numbers


# ---------------------------------------------------------------- Mazur's 2-2-2 network

def mazur_model():
    """Mazur's network as an nn.MLP(2, [2, 2]) with his names: inputs i1, i2, neurons
    h1, h2, o1, o2, weights w1..w8 and his biases (b1 for h1 and h2, b2 for o1 and o2)."""
    import nn
    model = nn.MLP(2, [2, 2])
    model.input_names = ["i1", "i2"]
    neurons = [n for layer in model.layers for n in layer.neurons]
    weights = iter(enumerate(MAZUR_WEIGHTS, 1))
    for neuron, name, bias in zip(neurons, ("h1", "h2", "o1", "o2"),
                                  (MAZUR_BIASES[0],) * 2 + (MAZUR_BIASES[1],) * 2):
        neuron.name = name
        for w in neuron.w:
            k, w.data = next(weights)
            w.label = f"w{k}"
        neuron.b.data = bias
    return model


def mazur_network():
    """Mazur's network, differentiated neuron by neuron; (numbers by name, the
    nn.backprop result). Every delta and dE/dw is checked against the scalar engine
    (a disagreement raises DemoCheckError). Biases are untrained constants (Mazur does
    not update them); the weights are updated simultaneously, from gradients of the
    original network, as he does."""
    from nn.backprop import EngineMismatch, neuron_backward
    try:
        result = neuron_backward(mazur_model(), MAZUR_INPUTS, MAZUR_TARGETS, loss="sse",
                                 cost_symbol="E")
    except EngineMismatch as error:
        raise DemoCheckError(str(error)) from None
    n = {}
    for layer, names in ((1, ("h1", "h2")), (2, ("o1", "o2"))):
        for j, name in enumerate(names):
            n[f"net_{name}"] = result.nets[layer][j]
            n[f"out_{name}"] = result.outs[layer][j]
            n[f"delta_{name}"] = result.deltas[layer][j]
    n["E_o1"], n["E_o2"] = result.cost_terms
    n["E_total"] = result.cost
    for step in result.steps:
        if step.kind == "weight":
            k = int(step.what[len("dE/dw"):])
            n[step.what] = step.engine   # the engine's w.grad; the rule's value equals it
            n[f"w{k}"] = MAZUR_WEIGHTS[k - 1] - MAZUR_RATE * step.engine
    return n, result


def _check_published(name, ours):
    """Within half a unit of the published number's last digit (it was rounded)."""
    published = MAZUR_PUBLISHED[name]
    decimals = len(published.partition(".")[2])
    if not abs(ours - float(published)) <= 0.5 * 10.0 ** -decimals + 1e-15:
        raise DemoCheckError(f"{name}: the engine gives {ours!r}, Mazur published {published}")


def mazur_demo(digits=9):
    """Mazur's worked example as tables, then neuron by neuron. Returns (text, numbers)."""
    n, result = mazur_network()
    f = _shown(digits)
    e = "{:+.1e}".format
    i1, i2 = MAZUR_INPUTS
    t1, t2 = MAZUR_TARGETS
    width = digits + 7  # room for significant figures of a small number: -0.000438567734

    def published_row(name, ours):
        if name not in MAZUR_PUBLISHED:
            return f"  {name:<9}{f(ours):>{width}}"
        pub = MAZUR_PUBLISHED[name]
        _check_published(name, ours)
        return f"  {name:<9}{f(ours):>{width}}   {pub:>12}   {e(ours - float(pub)):>9}"

    header = f"  {'':<9}{'chainrule':>{width}}   {'published':>12}   {'difference':>9}"
    lines = [
        "Mazur's worked example: a 2-2-2 sigmoid network, one step of gradient descent",
        f"  inputs i1 = {i1}, i2 = {i2};  targets t1 = {t1}, t2 = {t2}",
        "  weights w1..w8 = " + ", ".join(f"{x:g}" for x in MAZUR_WEIGHTS)
        + f";  biases b1 = {MAZUR_BIASES[0]}, b2 = {MAZUR_BIASES[1]} (not trained)",
        "  net_h1 = w1 i1 + w2 i2 + b1   net_h2 = w3 i1 + w4 i2 + b1   (out = sigmoid(net))",
        "  net_o1 = w5 out_h1 + w6 out_h2 + b2   net_o2 = w7 out_h1 + w8 out_h2 + b2",
        f"  E_total = sum 1/2 (t - out)^2;  learning rate {MAZUR_RATE}",
        "",
        "Forward pass",
        header,
    ]
    for name in ("net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "net_o2",
                 "out_o2", "E_o1", "E_o2", "E_total"):
        lines.append(published_row(name, n[name]))
    lines += [
        "",
        "Backward pass, neuron by neuron (the article's delta rules; a is a neuron's output,",
        "y its target): output deltas, their weights' gradients dE/dw = o_i * delta_j, then",
        "the hidden deltas delta_j = sigma'(net_j) * sum_l w_jl delta_l and their weights'.",
    ]
    lines += ["  " + line.replace("\n", "\n  ") for line in result.lines(digits, biases=False)]
    lines += ["", "dE/dw from the scalar engine's backward()", header]
    for k in range(1, 9):
        lines.append(published_row(f"dE/dw{k}", n[f"dE/dw{k}"]))
    lines += ["", f"Updated weights  w <- w - {MAZUR_RATE} * dE/dw",
              f"  {'':<9}{'before':>8}{'after':>{width}}   {'published':>12}   "
              f"{'difference':>9}"]
    for k in range(1, 9):
        name = f"w{k}"
        pub = MAZUR_PUBLISHED[name]
        _check_published(name, n[name])
        lines.append(f"  {name:<9}{MAZUR_WEIGHTS[k - 1]:>8.2f}{f(n[name]):>{width}}   "
                     f"{pub:>12}   {e(n[name] - float(pub)):>9}")
    lines += [
        "",
        "Every delta and dE/dw above, worked out by the delta rules, equals the gradient the",
        "scalar engine computed for that node; every difference from the published numbers",
        "is within the rounding of their last digit.",
    ]
    return "\n".join(lines), n


# ------------------------------------------------------------ softmax + cross-entropy

def softmax_demo(logits=(2.0, 1.0, 0.1), target=0, digits=4):
    """dJ/dz_i = softmax_i - onehot_i for one sample's logits, from the engine, two ways.

    `target` is the class index (0 for the first logit), as in nn.cross_entropy.
    Returns (text, numbers). Raises ValueError for fewer than two logits, a target out
    of range or a logit that is not a finite number.
    """
    import nn
    zs = [_finite(f"logit {i + 1}", z) for i, z in enumerate(logits)]
    if len(zs) < 2:
        raise ValueError(f"give at least two logits (one per class), got {len(zs)}")
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < len(zs):
        raise ValueError(f"the target is a class index from 0 to {len(zs) - 1}, got {target!r}")
    f = _shown(digits)
    k = len(zs)
    t = target
    onehot = [1.0 if i == t else 0.0 for i in range(k)]

    # Route 1: nn.cross_entropy, log-sum-exp (finite for any finite logits).
    z = [Value(x, label=f"z{i + 1}") for i, x in enumerate(zs)]
    J = nn.cross_entropy(z, t)
    J.label = "J"
    J.backward()
    probs = [p.data for p in nn.softmax(zs)]
    # The closed forms, from the textbook: J = log sum exp z_j - z_t, dJ/dz_i = p_i - onehot_i.
    top = max(zs)
    exps = [math.exp(x - top) for x in zs]
    closed_p = [e / math.fsum(exps) for e in exps]
    _check("J = log sum_j exp(z_j) - z_t", J.data, top + math.log(math.fsum(exps)) - zs[t],
           rtol=1e-12, atol=1e-12)
    for i in range(k):
        _check(f"p{i + 1} = exp(z{i + 1}) / sum_j exp(z_j)", probs[i], closed_p[i],
               rtol=1e-12, atol=1e-300)
        _check(f"dJ/dz{i + 1} = p{i + 1} - onehot{i + 1}", z[i].grad, closed_p[i] - onehot[i],
               rtol=1e-9, atol=1e-15)
    numbers = {"J": J.data, "p": probs, "dJ/dz": [v.grad for v in z]}

    names = ", ".join(f"z{i + 1}" for i in range(k))
    lines = [
        "Softmax and cross-entropy for one sample of many classes",
        f"  logits {names} = " + ", ".join(f"{x:g}" for x in zs)
        + f";  target class index {t} (z{t + 1}), so onehot = ("
        + ", ".join(f"{x:g}" for x in onehot) + ")",
        "  p_i = softmax(z)_i = exp(z_i) / sum_j exp(z_j)",
        "  J = -log p_t = log(sum_j exp(z_j)) - z_t      (t: the target class)",
        "",
        "Forward pass (nn.softmax, nn.cross_entropy):",
        "  " + "   ".join(f"p{i + 1} = {f(p)}" for i, p in enumerate(probs))
        + f"      (sum {f(math.fsum(probs))})",
        f"  J = -log p{t + 1} = {f(J.data)}",
        "",
        "Backward pass, chain rule through the softmax:",
        "  dJ/dp_t   = -1 / p_t",
        "  dp_t/dz_i = p_t (onehot_i - p_i)",
        "  dJ/dz_i   = -1/p_t * p_t (onehot_i - p_i) = p_i - onehot_i",
        "",
        f"  {'':<6}{'z_i':>10}{'p_i':>{digits + 6}}{'onehot_i':>10}{'dJ/dz_i (engine)':>{digits + 18}}"
        f"{'p_i - onehot_i':>{digits + 16}}",
    ]
    for i in range(k):
        lines.append(f"  z{i + 1:<5}{zs[i]:>10g}{f(probs[i]):>{digits + 6}}{onehot[i]:>10g}"
                     f"{f(z[i].grad):>{digits + 18}}{f(probs[i] - onehot[i]):>{digits + 16}}")

    # Route 2: -log of the softmax's own output p_t, every node of the chain in the graph.
    z2 = [Value(x, label=f"z{i + 1}") for i, x in enumerate(zs)]
    p2 = nn.softmax(z2)
    lines.append("")
    if p2[t].data > 0.0:
        J2 = -p2[t].log()
        J2.backward()
        _check(f"dJ/dp{t + 1} = -1/p{t + 1}", p2[t].grad, -1.0 / p2[t].data, rtol=1e-12)
        for i in range(k):
            _check(f"dJ/dz{i + 1} through the softmax's nodes", z2[i].grad, z[i].grad,
                   rtol=1e-9, atol=1e-15)
        numbers["dJ/dp_t"] = p2[t].grad
        lines += [
            f"  The same through the softmax's own nodes (J = -log p{t + 1}): the engine gives",
            f"  dJ/dp{t + 1} = {f(p2[t].grad)} = -1 / {f(p2[t].data)}, and on through each "
            f"dp{t + 1}/dz_i the same",
            "  dJ/dz_i: " + ", ".join(f(v.grad) for v in z2) + ".",
        ]
    else:
        lines += [f"  Through the softmax's own nodes J = -log p{t + 1} cannot be computed: "
                  f"p{t + 1} underflows",
                  "  to 0 in floating point; the log-sum-exp form above stays finite."]
    lines += [
        "",
        "  The softmax's slope cancels, as the sigmoid's does for one neuron (demo neuron: Z - t):",
        "  the error signal at each logit is just p_i - onehot_i. J is computed as",
        "  max z + log(sum_j exp(z_j - max z)) - z_t, so logits of +-1000 give a finite J.",
        "",
        "All numbers above come from the engine and were checked against these formulas.",
    ]
    return "\n".join(lines), numbers
