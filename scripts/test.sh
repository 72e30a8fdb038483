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

# Debian packages the tests drive: Graphviz for the drawings.
needed=()
command -v dot >/dev/null || needed+=(graphviz)
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
.venv/bin/python -m pytest "$@"
