#!/usr/bin/env bash
# Install chainrule with its test tools into .venv, plus what the tests need from Debian
# when missing (chromium and chromium-driver for the browser tests, pypy3 for running
# the core engine tests on a second interpreter, texlive's pdflatex for the worksheets),
# then run the whole test suite: once under CPython, then tests/engine/pure under PyPy.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
command -v pypy3 >/dev/null || need+=(pypy3)
command -v pdflatex >/dev/null || need+=(texlive-latex-base)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing ${need[*]} for the tests..."
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "note: ${need[*]} missing and not root; the tests that need them will fail" >&2
    fi
fi
. scripts/_env.sh test
python -m pytest -n 2 "$@"
if [ -d tests/engine/pure ]; then
    bash scripts/test_pypy.sh
fi
