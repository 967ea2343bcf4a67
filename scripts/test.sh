#!/usr/bin/env bash
# Install chainrule with its test tools into .venv (and, for the browser tests, Debian's
# chromium and chromium-driver when missing), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing chromium and chromium-driver for the browser tests..."
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "note: chromium/chromedriver missing and not root; browser tests will be skipped" >&2
    fi
fi
. scripts/_env.sh test
python -m pytest -n 2 "$@"
