#!/usr/bin/env bash
# Install chainrule into .venv and run the first demo: a neuron's gradients and its graph.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_env.sh ""   # no extras: the demo needs only the runtime packages
python examples/first_demo.py "$@"
