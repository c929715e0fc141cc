#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run the whole test suite. Extra arguments go to pytest.
# --fast (first argument): the inner loop's lane, the tests not marked slow (no real corpus, no
# browser, no servers as processes, no training); CI runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."
fast=()
if [ "${1:-}" = "--fast" ]; then
    shift
    fast=(-m "not slow")
fi
scripts/setup.sh
scripts/install-services.sh
[ ${#fast[@]} -gt 0 ] || scripts/install-browser.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests ${fast[@]+"${fast[@]}"} "$@"
