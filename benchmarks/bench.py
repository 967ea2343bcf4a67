"""Benchmark chainrule against micrograd 0.1.0, hand-written float loops and PyTorch.

    pip install -e .[bench]
    python benchmarks/bench.py            # the full run recorded in RESULTS.md
    python benchmarks/bench.py --quick    # smaller W3/W4, fewer repeats

Every run is a fresh process (benchmarks/worker.py) doing several identical steps; the
first step and the warm steps (median of steps 2..k) are reported apart, for every
engine, PyTorch included. Engines take turns, A B C A B C ..., so drift of a shared
machine spreads over all of them. The tables show medians. Every step's loss and
gradients are checked against the hand-written reference; any difference above 1e-9,
or an engine that fails, makes the exit status 1. BLAS and torch use one thread unless
--threads says otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINES = ["hand-written", "chainrule", "chainrule-paused-gc", "chainrule-unfused",
           "chainrule-compiled", "chainrule-batch", "micrograd", "torch"]
WORKLOADS = {
    "W1": "micrograd demo step: 100 moons, MLP 2-16-16-1 ReLU, hinge + L2",
    "W2": "the same, sigmoid everywhere, MSE",
    "W1-10k": "W1 on 10,000 points",
    "W2-10k": "W2 on 10,000 points",
    "W3": "chain x = x*0.9999 + 0.0001, {steps:,} steps, backward",
    "W4": "sum of {products:,} products as a pairwise tree, backward",
}
TOLERANCE = 1e-9
# Each run is one process doing `steps` identical steps: the first is reported alone, the
# warm time is the median of steps 2..k. Fewer steps where one step takes seconds.
STEPS = {"W1": 10, "W2": 10, "W1-10k": 5, "W2-10k": 5, "W3": 3, "W4": 3}
SLOW = {("micrograd", "W3"): 2, ("micrograd", "W4"): 2,
        ("chainrule", "W1-10k"): 3, ("chainrule", "W2-10k"): 3}
# Ratios the issue sets targets for: (engine, baseline).
RATIOS = [("chainrule", "hand-written"), ("chainrule-paused-gc", "hand-written"),
          ("chainrule", "micrograd"), ("chainrule-compiled", "hand-written"),
          ("chainrule-batch", "torch"), ("chainrule-batch", "hand-written")]


def thread_environment(threads):
    """The environment for workers: BLAS and OpenMP pools of `threads` threads.

    A threaded BLAS on a busy 2-core machine can make a small product far slower (every
    call waits for a thread the other jobs hold), so runs use one thread unless asked.
    """
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[name] = str(threads)
    env["CHAINRULE_BENCH_THREADS"] = str(threads)
    return env


def run_worker(engine, workload, quick, steps=1, env=None):
    command = [sys.executable, os.path.join(HERE, "worker.py"), engine, workload,
               "--steps", str(steps)]
    if quick:
        command.append("--quick")
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode == 3:
        return None  # this engine does not run this workload
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no message)"]
        return {"error": tail[0]}
    return json.loads(done.stdout)


def fmt_seconds(s):
    if s is None:
        return "n/a"
    return f"{s * 1000:.2f} ms" if s < 0.01 else f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def _medians(runs, key):
    return {e: statistics.median(r[key] for r in rs) if rs and rs[0][key] is not None else None
            for e, rs in runs.items()}


def _table(results, engines, key, steps, products):
    rows = ["| workload | " + " | ".join(engines) + " |", "|" + "---|" * (len(engines) + 1)]
    for workload, runs in results.items():
        medians = _medians(runs, key)
        title = WORKLOADS[workload].format(steps=steps, products=products)
        rows.append(f"| {workload} {title} | "
                    + " | ".join(fmt_seconds(medians.get(e)) for e in engines) + " |")
    return rows


def _ratio_lines(results, key):
    lines = []
    for workload, runs in results.items():
        medians = _medians(runs, key)
        parts = []
        for a, b in RATIOS:
            if medians.get(a) and medians.get(b):
                parts.append(f"{a} / {b} {medians[a] / medians[b]:.3g}")
        if parts:
            lines.append(f"- {workload}: " + ", ".join(parts))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--repeats", type=int, default=None,
                        help="processes per engine and workload (default 5; quick: 3)")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--workloads", default="W1,W2,W1-10k,W2-10k,W3,W4,M")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP/torch threads per worker (default 1)")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="cpu (default): the worker process's CPU time, which other jobs "
                             "on a shared machine inflate far less than wall time; wall: "
                             "elapsed time")
    parser.add_argument("--markdown", help="also write the table as Markdown to this file")
    args = parser.parse_args(argv)
    suffix = "_cpu" if args.clock == "cpu" else ""
    sys.path.insert(0, HERE)
    import engines as engine_setups

    engines = args.engines.split(",")
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
    workloads = args.workloads.split(",")
    unknown = [w for w in workloads if w not in WORKLOADS and w != "M"]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(WORKLOADS)}, M")
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    env = thread_environment(args.threads)
    repeats = args.repeats or (3 if args.quick else 5)
    steps, products = engine_setups.sizes(args.quick)
    failures = []
    results = {}
    for workload in [w for w in workloads if w != "M"]:
        n = repeats if workload not in ("W3", "W4") else max(1, (repeats + 1) // 2)
        runs = {e: [] for e in engines}
        for _ in range(n):
            for engine in engines:  # A B C ... then again: drift spreads over all
                if runs[engine] is None:
                    continue
                k = SLOW.get((engine, workload), STEPS[workload])
                r = run_worker(engine, workload, args.quick, k, env)
                if r is None:
                    runs[engine] = None
                    continue
                if "error" in r:
                    failures.append(f"{engine} {workload}: {r['error']}")
                    continue
                if not r["max_abs_diff"] < TOLERANCE:
                    failures.append(f"{engine} {workload}: loss/gradients differ from the "
                                    f"hand-written ones by {r['max_abs_diff']!r}")
                runs[engine].append(r)
            print(f"  {workload}: round done", file=sys.stderr, flush=True)
        results[workload] = {e: rs for e, rs in runs.items() if rs is not None}

    shown = [e for e in engines if any(e in runs for runs in results.values())]
    cells = ", ".join(f"{e} {w} {k}" for (e, w), k in SLOW.items()
                      if w in results and e in results[w])
    lines = [f"chainrule benchmark, {datetime.date.today()}, {'quick' if args.quick else 'full'} "
             f"mode, {repeats} processes per W1/W2 cell, {max(1, (repeats + 1) // 2)} per "
             f"W3/W4 cell, {args.threads} BLAS/torch thread(s)",
             f"steps per process: " + ", ".join(f"{w} {STEPS[w]}" for w in results)
             + (f"; except {cells}" if cells else ""),
             f"machine: {platform.machine()}, {os.cpu_count()} cores, "
             f"{platform.platform()}, Python {platform.python_version()}",
             f"clock: {'CPU time of the worker process (user + system)' if suffix else 'wall'}"
             f"; load average at the end {os.getloadavg()[0]:.1f}", "",
             "Warm steps (median over processes of each process's median of steps 2..k):", ""]
    lines += _table(results, shown, "warm" + suffix, steps, products)
    lines += ["", "First step of each process (median over processes):", ""]
    lines += _table(results, shown, "first" + suffix, steps, products)
    lines += ["", "Ratios, warm (median / median):"] + _ratio_lines(results, "warm" + suffix)
    lines += ["", "Ratios, first step:"] + _ratio_lines(results, "first" + suffix)
    setups = [(w, e, statistics.median(r["compile_seconds"] for r in results[w][e]))
              for w in results for e in ("chainrule-compiled", "chainrule-batch")
              if results[w].get(e)]
    again = [(w, statistics.median(r["compile_again_seconds"] for r in results[w][e]))
             for w in results for e in ("chainrule-batch",) if results[w].get(e)]
    if setups:
        lines += ["", "compile() once, untimed above (generate and compile the source; the "
                      "first batch compile in a process also loads batch.py): "
                      + ", ".join(f"{e} {w} {fmt_seconds(s)}" for w, e, s in setups)
                      + "; the batch compile a second time in the same process: "
                      + ", ".join(f"{w} {fmt_seconds(s)}" for w, s in again)]

    if "M" in workloads:
        lines += ["", "Memory of the W3-shaped chain (x * 0.9999 + 0.0001, 50,000 steps), "
                      "tracemalloc, graph built, before backward:", ""]
        for engine in ("chainrule", "micrograd"):
            if engine not in engines:
                continue
            r = run_worker(engine, "M", False, env=env)
            if r is None or "error" in r:
                failures.append(f"{engine} M: {r and r['error']}")
                continue
            lines.append(f"- {engine}: {r['nodes']:,} nodes of which {r['leaves']:,} leaves; "
                         f"{r['bytes_per_node']:.0f} bytes per node (leaves counted), "
                         f"{r['bytes_per_op_node']:.0f} bytes per operation node (all bytes / "
                         f"the {r['nodes'] - r['leaves']:,} non-leaf nodes)")

    table = "\n".join(lines)
    print(table)
    if args.markdown:
        temporary = args.markdown + ".tmp"
        with open(temporary, "w") as f:
            f.write(table + "\n")
        os.replace(temporary, args.markdown)
    if failures:
        print("\nBENCHMARK FAILED:", file=sys.stderr)
        for failure in failures:
            print("  " + failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
