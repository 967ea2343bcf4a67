"""Time one forward+backward of MLP(2, [16, 16, 1]) over 100 points (median of repeats).

    python scripts/time_mlp.py [--repeats 20]

A quick number for the README; the side-by-side comparison with micrograd and
hand-written loops is benchmarks/bench.py.
"""

import argparse
import random
import statistics
import time

import nn


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(0)
    xs = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(100)]
    ys = [float(rng.random() < 0.5) for _ in xs]
    model = nn.MLP(2, [16, 16, 1], seed=0)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        loss = nn.mse_loss([model(x) for x in xs], ys)
        model.zero_grad()
        loss.backward()
        times.append(time.perf_counter() - start)
    print(f"MLP(2, [16, 16, 1]), sigmoid, 100 points, forward + backward: "
          f"median {statistics.median(times) * 1e3:.1f} ms, best {min(times) * 1e3:.1f} ms "
          f"over {args.repeats} repeats")


if __name__ == "__main__":
    main()
