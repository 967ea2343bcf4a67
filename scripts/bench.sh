#!/usr/bin/env bash
# Install chainrule with micrograd 0.1.0 and torch 2.13.0 into .venv, then run the
# side-by-side benchmark (pass --quick for a run under a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_env.sh bench
python benchmarks/bench.py "$@"
