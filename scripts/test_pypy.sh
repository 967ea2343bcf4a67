#!/usr/bin/env bash
# The pure-Python engine tests (tests/engine/pure: no torch, no numpy) under PyPy, Debian's pypy3
# (Python 3.9), in its own .venv-pypy. autograd_core must import and run there unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-pypy
if [ ! -x "$VENV/bin/python" ]; then
    pypy3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pytest>=8" "hypothesis>=6.100" 2>&1 \
    | { grep -v "^WARNING: Location 'file:" || true; }
# -p no:cacheprovider: the CPython run owns .pytest_cache; rootdir's setup.cfg is read
# for nothing but testpaths, so point at tests/engine/pure explicitly.
exec "$VENV/bin/python" -m pytest -p no:cacheprovider -q tests/engine/pure "$@"
