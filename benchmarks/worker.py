"""Timed steps of one engine on one workload, in a process of its own.

    python benchmarks/worker.py ENGINE WORKLOAD [--quick] [--steps K]

Runs the same step K times (default 1) and prints one JSON line: the seconds of each
step, wall clock and the process's CPU time (the first pays for imports, caches and allocator growth, so it is reported apart
from the warm steps 2..K), the loss, and the largest absolute difference of the loss and
of every gradient from the hand-written reference over all K steps (the reference is
computed here too, untimed). WORKLOAD "M" instead measures bytes per node with
tracemalloc. Exit status 3 when the engine does not run that workload.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import engines  # noqa: E402
import handwritten  # noqa: E402
import workloads as W  # noqa: E402


def reference(workload, quick):
    steps, n_products = engines.sizes(quick)
    if workload in W.MLP_WORKLOADS:
        xs, ys = W.two_moons(W.MLP_WORKLOADS[workload][1])
        return handwritten.mlp_step(W.initial_weights(), xs, ys, W.MLP_WORKLOADS[workload][0])
    if workload == "W3":
        return handwritten.chain(steps)
    return handwritten.products(*W.product_factors(n_products))


def timed(engine, workload, quick, steps):
    setup_start = time.perf_counter()
    prepared = engines.ENGINES[engine](workload, quick)
    setup_seconds = time.perf_counter() - setup_start
    if prepared is None:
        return None
    run, extract = prepared
    ref_loss, ref_grads = reference(workload, quick)
    seconds, cpu, diff = [], [], 0.0
    for _ in range(steps):
        gc.collect()
        # Timed: from the workload's floats to the loss and gradients as Python floats,
        # including freeing the graph (a training loop pays for that too).
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run()
        loss, grads = extract(result)
        del result
        cpu.append(time.process_time() - start_cpu)
        seconds.append(time.perf_counter() - start)
        if len(grads) != len(ref_grads):
            diff = float("inf")
        else:
            diff = max([diff, abs(loss - ref_loss)]
                       + [abs(g - r) for g, r in zip(grads, ref_grads)])
    return {"seconds": seconds, "cpu_seconds": cpu, "first": seconds[0],
            "warm": statistics.median(seconds[1:]) if steps > 1 else None,
            "first_cpu": cpu[0], "warm_cpu": statistics.median(cpu[1:]) if steps > 1 else None,
            "setup_seconds": setup_seconds,
            "compile_seconds": engines.COMPILE_SECONDS[0] if engines.COMPILE_SECONDS else None,
            "compile_again_seconds": engines.COMPILE_SECONDS[1]
            if len(engines.COMPILE_SECONDS) > 1 else None, "loss": loss, "max_abs_diff": diff,
            "n_grads": len(grads)}


def _chain_graph(Value, steps):
    x0 = Value(W.CHAIN_X0)
    x = x0
    for _ in range(steps):
        x = x * W.CHAIN_MUL + W.CHAIN_ADD
    return x


def _count_nodes(root, parents_of):
    seen, stack = {id(root)}, [root]
    leaves = 0
    while stack:
        node = stack.pop()
        ps = parents_of(node)
        leaves += not ps
        for p in ps:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen), leaves


def memory(engine):
    """Bytes per node of the W3-shaped chain with MEMORY_NODES nodes, leaves counted.

    Each step x * 0.9999 + 0.0001 makes 4 nodes: two constant leaves and two operation
    nodes. micrograd makes a leaf Value for each plain number as it goes; chainrule keeps
    the number in its operation node and makes the leaf when `.parents` is first read,
    which the node count below does after the bytes are taken: the graph counted is the
    same, its constants cost what they cost while the graph is built and walked.
    """
    if engine == "chainrule":
        from autograd_core import Value
        parents_of = lambda v: v.parents  # noqa: E731
    elif engine == "micrograd":
        from micrograd.engine import Value
        sys.setrecursionlimit(1_000_000)
        parents_of = lambda v: v._prev  # noqa: E731
    else:
        return None
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    root = _chain_graph(Value, W.MEMORY_NODES // 4)
    built = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    nodes, leaves = _count_nodes(root, parents_of)
    return {"nodes": nodes, "leaves": leaves, "bytes_per_node": built / nodes,
            "bytes_per_op_node": built / (nodes - leaves)}


def main(argv):
    engine, workload = argv[0], argv[1]
    quick = "--quick" in argv
    steps = int(argv[argv.index("--steps") + 1]) if "--steps" in argv else 1
    result = memory(engine) if workload == "M" else timed(engine, workload, quick, steps)
    if result is None:
        return 3
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
