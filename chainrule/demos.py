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

__all__ = ["DemoCheckError", "neuron_demo", "mazur_demo", "mazur_network", "MAZUR_PUBLISHED"]

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


# ------------------------------------------------------------------------ one neuron

def neuron_demo(W=0.6, X=1.5, t=1.0, digits=4):
    """J = L(h(g(W))) for one sigmoid neuron, with cross-entropy and quadratic costs.

    Returns (text, numbers). Raises ValueError for inputs the derivation cannot use
    (t outside [0, 1]; a neuron so saturated that log(Z) or log(1 - Z) is infinite).
    """
    W, X, t = _finite("W", W), _finite("X", X), _finite("t", t)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"the target t must lie in [0, 1] (it is a probability), got {t!r}")
    f = f"{{:.{digits}f}}".format

    # --- cross-entropy: J = -(t log Z + (1 - t) log(1 - Z))
    w = Value(W, label="W")
    Y = w * X                       # g
    Y.label = "Y"
    Z = Y.sigmoid()                 # h
    Z.label = "Z"
    z = Z.data
    if not 0.0 < z < 1.0:
        raise ValueError(f"sigmoid(W*X) = sigmoid({Y.data!r}) rounds to {z!r}, so the "
                         "cross-entropy is infinite; use a smaller |W*X|")
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

def mazur_network():
    """Build and differentiate Mazur's network; return the numbers by name.

    Biases are untrained constants (Mazur does not update them). The weights are
    updated simultaneously, from gradients of the original network, as he does.
    Raises DemoCheckError if any engine number disagrees with its closed form.
    """
    i1, i2 = MAZUR_INPUTS
    t1, t2 = MAZUR_TARGETS
    b1, b2 = MAZUR_BIASES
    w = [Value(x, label=f"w{k}") for k, x in enumerate(MAZUR_WEIGHTS, 1)]
    # Explicit products, so each weight's local derivative d(w*x)/dw sits on its own node.
    p = [w[0] * i1, w[1] * i2, w[2] * i1, w[3] * i2]
    net_h1 = p[0] + p[1] + b1
    net_h2 = p[2] + p[3] + b1
    out_h1, out_h2 = net_h1.sigmoid(), net_h2.sigmoid()
    p += [w[4] * out_h1, w[5] * out_h2, w[6] * out_h1, w[7] * out_h2]
    net_o1 = p[4] + p[5] + b2
    net_o2 = p[6] + p[7] + b2
    out_o1, out_o2 = net_o1.sigmoid(), net_o2.sigmoid()
    E_o1 = 0.5 * (t1 - out_o1) ** 2
    E_o2 = 0.5 * (t2 - out_o2) ** 2
    E_total = E_o1 + E_o2
    nodes = {"net_h1": net_h1, "out_h1": out_h1, "net_h2": net_h2, "out_h2": out_h2,
             "net_o1": net_o1, "out_o1": out_o1, "net_o2": net_o2, "out_o2": out_o2,
             "E_o1": E_o1, "E_o2": E_o2, "E_total": E_total}
    for name, node in nodes.items():
        node.label = name
    E_total.backward()

    n = {name: node.data for name, node in nodes.items()}
    for k, weight in enumerate(w, 1):
        n[f"dE/dw{k}"] = weight.grad
        n[f"w{k}"] = weight.data - MAZUR_RATE * weight.grad
    # The deltas are the gradients that reached the net inputs; the factors of the
    # delta rules are the local derivatives the engine stored in the forward pass.
    n["delta_o1"], n["delta_o2"] = net_o1.grad, net_o2.grad
    n["delta_h1"], n["delta_h2"] = net_h1.grad, net_h2.grad
    n["sigma'(net_o1)"] = out_o1.local_grads[0]
    n["sigma'(net_h1)"] = out_h1.local_grads[0]
    n["dE/dout_o1"] = out_o1.grad
    n["dnet_o1/dw5"] = p[4].local_grads[0]
    n["dnet_h1/dw1"] = p[0].local_grads[0]
    n["dnet_o1/dout_h1"] = p[4].local_grads[1]      # = w5
    n["dnet_o2/dout_h1"] = p[6].local_grads[1]      # = w7
    n["dE/dout_h1"] = out_h1.grad

    # The textbook's closed forms, from the forward values and the original weights.
    o1, o2, h1 = n["out_o1"], n["out_o2"], n["out_h1"]
    w5, w7 = MAZUR_WEIGHTS[4], MAZUR_WEIGHTS[6]
    delta_o1 = (o1 - t1) * o1 * (1.0 - o1)
    delta_o2 = (o2 - t2) * o2 * (1.0 - o2)
    delta_h1 = h1 * (1.0 - h1) * (w5 * delta_o1 + w7 * delta_o2)
    _check("sigma'(net_o1) = out_o1 (1 - out_o1)", n["sigma'(net_o1)"], o1 * (1.0 - o1))
    _check("sigma'(net_h1) = out_h1 (1 - out_h1)", n["sigma'(net_h1)"], h1 * (1.0 - h1))
    _check("dE/dout_o1 = out_o1 - t1", n["dE/dout_o1"], o1 - t1, rtol=1e-9)
    _check("dnet_o1/dw5 = out_h1", n["dnet_o1/dw5"], h1)
    _check("dnet_h1/dw1 = i1", n["dnet_h1/dw1"], i1)
    _check("dnet_o1/dout_h1 = w5", n["dnet_o1/dout_h1"], w5)
    _check("dnet_o2/dout_h1 = w7", n["dnet_o2/dout_h1"], w7)
    _check("delta_o1 = (out_o1 - t1) out_o1 (1 - out_o1)", n["delta_o1"], delta_o1, rtol=1e-9)
    _check("delta_o2 = (out_o2 - t2) out_o2 (1 - out_o2)", n["delta_o2"], delta_o2, rtol=1e-9)
    _check("dE/dw5 = delta_o1 out_h1", n["dE/dw5"], delta_o1 * h1, rtol=1e-9)
    _check("delta_h1 = sigma'(net_h1) (w5 delta_o1 + w7 delta_o2)", n["delta_h1"], delta_h1,
           rtol=1e-9)
    _check("dE/dw1 = delta_h1 i1", n["dE/dw1"], delta_h1 * i1, rtol=1e-9)
    _check("E_total = E_o1 + E_o2", n["E_total"],
           0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2, rtol=1e-12)
    return n


def _check_published(name, ours):
    """Within half a unit of the published number's last digit (it was rounded)."""
    published = MAZUR_PUBLISHED[name]
    decimals = len(published.partition(".")[2])
    if not abs(ours - float(published)) <= 0.5 * 10.0 ** -decimals + 1e-15:
        raise DemoCheckError(f"{name}: the engine gives {ours!r}, Mazur published {published}")


def mazur_demo(digits=9):
    """Mazur's worked example as tables. Returns (text, numbers)."""
    n = mazur_network()
    f = f"{{:.{digits}f}}".format
    e = "{:+.1e}".format
    i1, i2 = MAZUR_INPUTS
    t1, t2 = MAZUR_TARGETS
    width = digits + 4
    sig_o1, sig_h1 = n["sigma'(net_o1)"], n["sigma'(net_h1)"]

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
    lines += ["", "Backward pass: dE_total/dw from backward()", header]
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
        "Output delta rule, for w5 (h1 -> o1):",
        "  delta_o1 = dE/dnet_o1 = (out_o1 - t1) * out_o1 (1 - out_o1)",
        f"           = {f(n['dE/dout_o1'])} * {f(sig_o1)}"
        f" = {f(n['delta_o1'])}",
        f"  dE/dw5 = delta_o1 * out_h1 = {f(n['delta_o1'])} * {f(n['dnet_o1/dw5'])}"
        f" = {f(n['dE/dw5'])}",
        "",
        "Hidden delta rule, for w1 (i1 -> h1):  delta_j = sigma'(net_j) * sum_l w_jl delta_l",
        "  delta_h1 = sigma'(net_h1) * (w5 delta_o1 + w7 delta_o2)",
        f"           = {f(sig_h1)} * "
        f"({f(n['dnet_o1/dout_h1'])} * {f(n['delta_o1'])} + "
        f"{f(n['dnet_o2/dout_h1'])} * {f(n['delta_o2'])})",
        f"           = {f(sig_h1)} * {f(n['dE/dout_h1'])}"
        f" = {f(n['delta_h1'])}",
        f"  dE/dw1 = delta_h1 * i1 = {f(n['delta_h1'])} * {f(n['dnet_h1/dw1'])}"
        f" = {f(n['dE/dw1'])}",
        "",
        "Every number comes from the engine (grads and stored local derivatives) and was",
        "checked against the closed-form delta rules above; every difference from the",
        "published numbers is within the rounding of their last digit.",
    ]
    return "\n".join(lines), n
