# Shared by demo.sh and test.sh: make .venv (once) and install chainrule into it.
# Usage: . scripts/_env.sh [extras]   e.g. ". scripts/_env.sh test"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "chainrule needs Python 3.10 or newer; $PY is $("$PY" --version 2>&1)" >&2
    exit 2
fi
VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
EXTRAS="${1:-}"
SPEC="$ROOT"
[ -n "$EXTRAS" ] && SPEC="$ROOT[$EXTRAS]"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$SPEC"
export PATH="$VENV/bin:$PATH"
