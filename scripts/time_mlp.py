"""Time one training step of MLP(2, [16, 16, 1]) over N points, by each path (medians).

    python scripts/time_mlp.py [--points 100] [--repeats 20] [--path eager,compiled,batch]

A quick number for the README; the side-by-side comparison with micrograd, hand-written
loops and PyTorch, first and warm steps apart, is benchmarks/bench.py. Set
OPENBLAS_NUM_THREADS=1 before running the batch path on a shared machine.
"""

import argparse
import random
import statistics
import time

import nn
from autograd_core import Value, compile

PATHS = ("eager", "compiled", "batch")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--path", default=",".join(PATHS),
                        help=f"comma-separated, from: {', '.join(PATHS)}")
    args = parser.parse_args()
    paths = args.path.split(",")
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        parser.error(f"unknown path(s) {', '.join(unknown)}; choose from {', '.join(PATHS)}")
    if args.repeats < 1 or args.points < 1:
        parser.error("--repeats and --points must be at least 1")
    rng = random.Random(0)
    xs = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(args.points)]
    ys = [float(rng.random() < 0.5) for _ in xs]
    model = nn.MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()

    def eager():
        loss = nn.mse_loss([model(x) for x in xs], ys)
        model.zero_grad()
        loss.backward()

    steps = {"eager": eager}
    if "compiled" in paths:
        whole = compile(nn.mse_loss([model(x) for x in xs], ys), params)
        steps["compiled"] = lambda: whole([p.data for p in params])
    if "batch" in paths:
        from nn.c_allocator import keep_freed_memory
        keep_freed_memory()  # as chainrule train does (nn/c_allocator.py)
        x1, x2, t = Value(0.0, label="x1"), Value(0.0, label="x2"), Value(0.0, label="t")
        batch = compile((model([x1, x2]) - t) ** 2, params, batch=[x1, x2, t])
        columns = [[x[0] for x in xs], [x[1] for x in xs], ys]
        steps["batch"] = lambda: batch([p.data for p in params], columns)
    for path in paths:
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            steps[path]()
            times.append(time.perf_counter() - start)
        print(f"MLP(2, [16, 16, 1]), sigmoid, {args.points} points, {path:8s} forward + backward: "
              f"median {statistics.median(times) * 1e3:.2f} ms, best {min(times) * 1e3:.2f} ms "
              f"over {args.repeats} repeats")


if __name__ == "__main__":
    main()
