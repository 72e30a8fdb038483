#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine, then lints and runs the whole suite.
# Usage: bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

# Debian packages the tests drive: Graphviz for the drawings, Chromium for the site's
# browser tests (Debian's, driven by Playwright; nothing downloads a browser), and a CJK
# font, without which Chromium draws the Chinese pages as empty boxes.
needed=()
command -v dot >/dev/null || needed+=(graphviz)
[ -x /usr/bin/chromium ] || needed+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || needed+=(fonts-noto-cjk)
if [ ${#needed[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${needed[@]}" >/dev/null
    else
        echo "note: not root, so not installing ${needed[*]}; the tests that need them will skip" >&2
    fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
# tests/test_site.py builds the site with `mkdocs build --strict` (a failed build fails
# the run) and browses it in headless Chromium.
.venv/bin/python -m pytest "$@"
