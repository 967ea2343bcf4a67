"""Benchmark chainrule against micrograd 0.1.0, hand-written float loops and PyTorch.

    pip install -e .[bench]
    python benchmarks/bench.py            # the full run recorded in RESULTS.md
    python benchmarks/bench.py --quick    # smaller W3/W4, fewer repeats: under a minute

Every timed run is a fresh process (benchmarks/worker.py); engines take turns, A B C A B
C ..., so drift of a shared machine spreads over all of them. The table shows medians.
Each run's loss and gradients are checked against the hand-written reference; any
difference above 1e-9, or an engine that fails, makes the exit status 1.
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
           "chainrule-compiled", "micrograd", "torch-vectorised"]
WORKLOADS = {
    "W1": "micrograd demo step: 100 moons, MLP 2-16-16-1 ReLU, hinge + L2",
    "W2": "the same, sigmoid everywhere, MSE",
    "W3": "chain x = x*0.9999 + 0.0001, {steps:,} steps, backward",
    "W4": "sum of {products:,} products as a pairwise tree, backward",
}
TOLERANCE = 1e-9


def run_worker(engine, workload, quick):
    command = [sys.executable, os.path.join(HERE, "worker.py"), engine, workload]
    if quick:
        command.append("--quick")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode == 3:
        return None  # this engine does not run this workload
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no message)"]
        return {"error": tail[0]}
    return json.loads(done.stdout)


def fmt_seconds(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per engine and workload (default 5; quick: 3)")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--workloads", default="W1,W2,W3,W4,M")
    parser.add_argument("--markdown", help="also write the table as Markdown to this file")
    args = parser.parse_args(argv)
    sys.path.insert(0, HERE)
    import engines as engine_setups

    engines = args.engines.split(",")
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
    workloads = args.workloads.split(",")
    repeats = args.repeats or (3 if args.quick else 5)
    steps, products = engine_setups.sizes(args.quick)
    failures = []
    results = {}
    for workload in [w for w in workloads if w != "M"]:
        n = repeats if workload in ("W1", "W2") else max(1, (repeats + 1) // 2)
        runs = {e: [] for e in engines}
        for _ in range(n):
            for engine in engines:  # A B C ... then again: drift spreads over all
                r = run_worker(engine, workload, args.quick)
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
        results[workload] = runs

    lines = [f"chainrule benchmark, {datetime.date.today()}, {'quick' if args.quick else 'full'} "
             f"mode, {repeats} runs per W1/W2 cell, {max(1, (repeats + 1) // 2)} per W3/W4 cell",
             f"machine: {platform.machine()}, {os.cpu_count()} cores, "
             f"{platform.platform()}, Python {platform.python_version()}", ""]
    header = "| workload | " + " | ".join(engines) + " | chainrule / micrograd | chainrule / hand-written |"
    lines += [header, "|" + "---|" * (len(engines) + 3)]
    for workload, runs in results.items():
        medians = {e: statistics.median(r["seconds"] for r in rs) if rs else None
                   for e, rs in runs.items()}
        cells = [fmt_seconds(m) if m is not None else "n/a" for m in medians.values()]

        def ratio(a, b):
            ma, mb = medians.get(a), medians.get(b)
            return f"{ma / mb:.3f}" if ma and mb else "n/a"
        title = WORKLOADS[workload].format(steps=steps, products=products)
        lines.append(f"| {workload} {title} | " + " | ".join(cells)
                     + f" | {ratio('chainrule', 'micrograd')} | {ratio('chainrule', 'hand-written')} |")
    lines.append("")
    lines.append("Ratios to hand-written (median / median):")
    for workload, runs in results.items():
        hand = runs.get("hand-written")
        if not hand:
            continue
        base = statistics.median(r["seconds"] for r in hand)
        parts = [f"{e} {statistics.median(r['seconds'] for r in rs) / base:.2f}x"
                 for e, rs in runs.items() if rs and e != "hand-written"]
        lines.append(f"- {workload}: " + ", ".join(parts))
    compiled = [results[w]["chainrule-compiled"][0]["setup_seconds"] for w in results
                if results[w].get("chainrule-compiled")]
    if compiled:
        lines.append("- compile once (build the graph, generate and compile the source): "
                     + ", ".join(fmt_seconds(s) for s in compiled))

    if "M" in workloads:
        lines += ["", "Memory of the W3-shaped chain (x * 0.9999 + 0.0001, 50,000 steps = "
                      "200,001 nodes, of which 100,001 leaves: x0 and the two constants of "
                      "each step), tracemalloc, graph built, before backward:", ""]
        for engine in ("chainrule", "micrograd"):
            if engine not in engines:
                continue
            r = run_worker(engine, "M", False)
            if r is None or "error" in r:
                failures.append(f"{engine} M: {r and r['error']}")
                continue
            lines.append(f"- {engine}: {r['bytes_per_node']:.0f} bytes per node (leaves "
                         f"counted), {r['bytes_per_op_node']:.0f} bytes per operation node "
                         f"(all bytes / the {r['nodes'] - r['leaves']:,} non-leaf nodes)")

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
