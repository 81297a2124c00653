#!/usr/bin/env bash
# Configures (once) and builds LlamaNet in build/ with Ninja. llama.cpp is built once per
# build folder; ccache keeps later rebuilds fast.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || cmake --preset default
cmake --build --preset default
