"""Each engine's version of each workload, as `setup(workload, quick) -> (run, extract)`.

`run()` is the timed part: from the workload's floats to a finished backward pass (for
W1/W2: the whole training step's forward and backward, including wrapping the inputs
and zeroing the gradients). `extract(result)` is untimed and returns (loss, grads) as
floats in the common order, for the comparison with the hand-written reference.
"""

from __future__ import annotations

import operator
import os
import sys
import time

import handwritten
import workloads as W

ENGINES = {}
COMPILE_SECONDS = []  # compile() alone, for the engines that compile (setup, untimed)


def engine(name):
    def register(setup):
        ENGINES[name] = setup
        return setup
    return register


def sizes(quick):
    """(chain steps, products): smaller in --quick mode so every engine finishes fast."""
    return (100_000, 20_000) if quick else (W.CHAIN_STEPS, W.PRODUCTS)


def _mlp_data(workload):
    """(points, labels, initial weights, loss kind) of a network workload."""
    kind, points = W.MLP_WORKLOADS[workload]
    xs, ys = W.two_moons(points)
    return xs, ys, W.initial_weights(), kind


def _only_small(workload):
    """Engines too slow for 10,000 points (a step of minutes) run the 100-point ones only."""
    return workload in W.MLP_WORKLOADS and W.MLP_WORKLOADS[workload][1] > W.POINTS


# --------------------------------------------------------------- hand-written floats
@engine("hand-written")
def setup_handwritten(workload, quick):
    steps, n_products = sizes(quick)
    if workload in W.MLP_WORKLOADS:
        xs, ys, layers, kind = _mlp_data(workload)
        return (lambda: handwritten.mlp_step(layers, xs, ys, kind)), (lambda r: r)
    if workload == "W3":
        return (lambda: handwritten.chain(steps)), (lambda r: r)
    a, b = W.product_factors(n_products)
    return (lambda: handwritten.products(a, b)), (lambda r: r)


# ------------------------------------------------------------------------ chainrule
def _chainrule_model(kind, layers):
    """chainrule's nn.MLP for the workload, with the workload's initial weights."""
    from nn import MLP

    hinge = kind == "hinge"
    model = MLP(2, list(W.SIZES[1:]), activation="relu" if hinge else "sigmoid",
                output_activation="linear" if hinge else "sigmoid")
    for layer, init in zip(model.layers, layers):
        for neuron, (ws, b) in zip(layer.neurons, init):
            for w, value in zip(neuron.w, ws):
                w.data = value
            neuron.b.data = b
    return model


def _chainrule_mlp(workload, fused):
    from autograd_core import Value, value_sum
    from nn import mse_loss

    xs, ys, layers, kind = _mlp_data(workload)
    hinge = kind == "hinge"
    model = _chainrule_model(kind, layers)
    params = model.parameters()
    targets = [(y + 1.0) / 2.0 for y in ys]

    def unfused(x):
        """The micrograd-shaped graph: one * and one + node per weight."""
        for layer in model.layers:
            out = []
            for neuron in layer.neurons:
                net = sum((w * xi for w, xi in zip(neuron.w, x)), neuron.b)
                act = neuron.activation
                out.append(net if act == "linear" else getattr(net, act)())
            x = out
        return x[0]

    forward = model if fused else unfused

    def build():
        scores = [forward(x) for x in xs]
        if hinge:
            losses = [(1.0 - y * s).relu() for y, s in zip(ys, scores)]
            total = value_sum(losses) if fused else sum(losses)
            reg = value_sum([p * p for p in params]) if fused else sum(p * p for p in params)
            return total * (1.0 / len(losses)) + W.REG * reg
        if fused:
            return mse_loss(scores, targets)
        return sum((s - t) ** 2 for s, t in zip(scores, targets)) * (1.0 / len(scores))

    return model, params, build, Value


def _scalar_workload(Value, workload, steps, n_products):
    """W3 and W4 written once for any scalar engine with micrograd's interface."""
    if workload == "W3":
        def run():
            x0 = Value(W.CHAIN_X0)
            x = x0
            for _ in range(steps):
                x = x * W.CHAIN_MUL + W.CHAIN_ADD
            x.backward()
            return x, x0
        return run, (lambda r: (r[0].data, [r[1].grad]))
    a, b = W.product_factors(n_products)

    def run():
        va = [Value(x) for x in a]
        vb = [Value(y) for y in b]
        root = W.pairwise_sum([x * y for x, y in zip(va, vb)], operator.add)
        root.backward()
        return root, va, vb
    return run, (lambda r: (r[0].data, [v.grad for v in r[1]] + [v.grad for v in r[2]]))


@engine("chainrule")
def setup_chainrule(workload, quick, fused=True):
    from autograd_core import Value

    steps, n_products = sizes(quick)
    if workload in W.MLP_WORKLOADS:
        model, params, build, _ = _chainrule_mlp(workload, fused)

        def run():
            loss = build()
            model.zero_grad()
            loss.backward()
            return loss
        return run, (lambda loss: (loss.data, [p.grad for p in params]))
    return _scalar_workload(Value, workload, steps, n_products)


@engine("chainrule-unfused")
def setup_chainrule_unfused(workload, quick):
    """chainrule on micrograd's graph shape: explicit * and + nodes per weight."""
    if workload not in W.MLP_WORKLOADS or _only_small(workload):
        return None
    return setup_chainrule(workload, quick, fused=False)


@engine("chainrule-compiled")
def setup_compiled(workload, quick):
    """The graph is built and compiled once (untimed); each run replays it on floats.

    Not at 10,000 points: the whole-batch graph (a million nodes) takes minutes to
    compile; that is what the batch compile is for.
    """
    if workload not in W.MLP_WORKLOADS or _only_small(workload):
        return None
    from autograd_core import compile as compile_graph

    _, params, build, _ = _chainrule_mlp(workload, fused=True)
    loss = build()
    start = time.perf_counter()
    function = compile_graph(loss, params)
    COMPILE_SECONDS.append(time.perf_counter() - start)
    values = [p.data for p in params]
    return (lambda: function(values)), (lambda r: (r[0], list(r[1])))


@engine("chainrule-batch")
def setup_batch(workload, quick):
    """compile(loss of one sample, params, batch=[x1, x2, y]) once (untimed): numpy over
    the batch. Like torch's, the data columns are arrays made once, outside the step."""
    if workload not in W.MLP_WORKLOADS:
        return None
    import numpy as np
    from autograd_core import Value, compile as compile_graph, value_sum
    from nn.c_allocator import keep_freed_memory

    keep_freed_memory()  # as chainrule train does: numpy batches, glibc keeps freed arrays
    xs, ys, layers, kind = _mlp_data(workload)
    model = _chainrule_model(kind, layers)
    params = model.parameters()
    x1, x2, y = Value(0.0, label="x1"), Value(0.0, label="x2"), Value(0.0, label="y")
    score = model([x1, x2])
    if kind == "hinge":
        loss = (1.0 - y * score).relu() + W.REG * value_sum([p * p for p in params])
        targets = ys
    else:
        loss = (score - y) ** 2
        targets = [(t + 1.0) / 2.0 for t in ys]
    for _ in range(2):  # the first in a process also loads batch.py; the second is steady
        start = time.perf_counter()
        function = compile_graph(loss, params, batch=[x1, x2, y], reduce="mean")
        COMPILE_SECONDS.append(time.perf_counter() - start)
    columns = [np.array([x[0] for x in xs]), np.array([x[1] for x in xs]), np.array(targets)]
    values = [p.data for p in params]
    return (lambda: function(values, columns)), (lambda r: (float(r[0]), list(r[1])))


# ------------------------------------------------------------------------ micrograd
def _micrograd_sigmoid(Value):
    """micrograd 0.1.0 has no sigmoid; add one in its own style (closure backward)."""
    def sigmoid(self):
        s = handwritten._sigmoid(self.data)
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1.0 - s) * out.grad
        out._backward = _backward
        return out
    Value.sigmoid = sigmoid


@engine("micrograd")
def setup_micrograd(workload, quick):
    from micrograd.engine import Value
    from micrograd.nn import MLP

    sys.setrecursionlimit(10_000_000)  # its backward recurses once per graph level
    steps, n_products = sizes(quick)
    if _only_small(workload):
        return None
    if workload in W.MLP_WORKLOADS:
        xs, ys, layers, kind = _mlp_data(workload)
        model = MLP(2, list(W.SIZES[1:]))
        for layer, init in zip(model.layers, layers):
            for neuron, (ws, b) in zip(layer.neurons, init):
                for w, value in zip(neuron.w, ws):
                    w.data = value
                neuron.b.data = b
        params = model.parameters()
        _micrograd_sigmoid(Value)

        def sigmoid_net(x):
            for layer in model.layers:
                x = [sum((w * xi for w, xi in zip(n.w, x)), n.b).sigmoid() for n in layer.neurons]
            return x[0]

        def run():
            # micrograd's demo notebook's loss(), then zero_grad and backward
            inputs = [list(map(Value, row)) for row in xs]
            if kind == "hinge":
                scores = list(map(model, inputs))
                losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
                data_loss = sum(losses) * (1.0 / len(losses))
                loss = data_loss + W.REG * sum(p * p for p in params)
            else:
                outs = [sigmoid_net(x) for x in inputs]
                loss = sum((o - (y + 1.0) / 2.0) ** 2 for o, y in zip(outs, ys)) * (1.0 / len(outs))
            model.zero_grad()
            loss.backward()
            return loss
        return run, (lambda loss: (loss.data, [float(p.grad) for p in params]))
    return _scalar_workload(Value, workload, steps, n_products)


# ------------------------------------------------------------- PyTorch, vectorised
@engine("torch")
def setup_torch(workload, quick):
    """PyTorch 2.13 on float64 tensors, batched matrices, not scalars; one thread unless
    the driver's --threads says otherwise. Its data tensors are made once, outside the step."""
    if workload == "W3":
        return None  # a sequential scalar chain has no vectorised form
    import torch
    torch.set_num_threads(int(os.environ.get("CHAINRULE_BENCH_THREADS", "1")))
    f64 = torch.float64
    _, n_products = sizes(quick)
    if workload in W.MLP_WORKLOADS:
        xs, ys, layers, kind = _mlp_data(workload)
        X = torch.tensor(xs, dtype=f64)
        Y = torch.tensor(ys, dtype=f64)
        params = []
        for layer in layers:
            params.append(torch.tensor([ws for ws, _ in layer], dtype=f64, requires_grad=True))
            params.append(torch.tensor([b for _, b in layer], dtype=f64, requires_grad=True))

        def run():
            for p in params:
                p.grad = None
            h = X
            for i in range(0, len(params), 2):
                h = h @ params[i].T + params[i + 1]
                last = i == len(params) - 2
                if kind == "mse":
                    h = torch.sigmoid(h)
                elif not last:
                    h = torch.relu(h)
            score = h[:, 0]
            if kind == "hinge":
                loss = torch.relu(1 - Y * score).mean()
                loss = loss + W.REG * sum((p * p).sum() for p in params)
            else:
                loss = ((score - (Y + 1) / 2) ** 2).mean()
            loss.backward()
            return loss

        def extract(loss):
            grads = []
            for i in range(0, len(params), 2):
                for row, b in zip(params[i].grad.tolist(), params[i + 1].grad.tolist()):
                    grads.extend(row)
                    grads.append(b)
            return loss.item(), grads
        return run, extract
    a, b = W.product_factors(n_products)

    def run():
        ta = torch.tensor(a, dtype=f64, requires_grad=True)
        tb = torch.tensor(b, dtype=f64, requires_grad=True)
        loss = (ta * tb).sum()
        loss.backward()
        return loss, ta, tb
    return run, (lambda r: (r[0].item(), r[1].grad.tolist() + r[2].grad.tolist()))


@engine("chainrule-paused-gc")
def setup_paused(workload, quick):
    """chainrule with the cyclic garbage collector paused for the whole step."""
    from autograd_core import paused_gc

    if _only_small(workload):
        return None
    run, extract = setup_chainrule(workload, quick)

    def paused_run():
        with paused_gc():
            return extract(run())
    return paused_run, (lambda r: r)
