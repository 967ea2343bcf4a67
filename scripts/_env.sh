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
# pip's notes about this machine's optional local package folders are noise here.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$SPEC" 2>&1 \
    | { grep -v "^WARNING: Location 'file:" || true; }
export PATH="$VENV/bin:$PATH"
