#!/usr/bin/env bash
# Builds llama.cpp's own programs (llama-server, llama-batched-bench, ...) from the very
# llama.cpp source a LlamaNet build folder fetched, in a folder of their own, so that a
# benchmark compares LlamaNet with the same llama.cpp code. Configures once; builds only the
# targets asked for, at low priority, one build at a time on the machine (a lock).
#
#   bench/lib/llama_tools.sh LLAMANET_BUILD TOOLS_BUILD TARGET...   (from the repository root)
#
# Environment: LLAMA_TOOLS_CMAKE_ARGS (extra cmake arguments, e.g. "-DGGML_CUDA=ON"),
# JOBS (2). The programs land in TOOLS_BUILD/bin/.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: bench/lib/llama_tools.sh LLAMANET_BUILD TOOLS_BUILD TARGET..." >&2
  exit 2
fi
build=$1
tools_build=$2
shift 2
src=$build/_deps/llama_cpp-src
if [ ! -f "$src/CMakeLists.txt" ]; then
  echo "llama_tools.sh: no llama.cpp source in $src: configure LlamaNet in $build first" >&2
  exit 1
fi
launcher=()
if command -v ccache >/dev/null; then
  # Paths relative to the repository in ccache's keys, so that worktrees share one cache.
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
  launcher=(-DGGML_CCACHE=ON -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
if [ ! -f "$tools_build/CMakeCache.txt" ]; then
  # shellcheck disable=SC2086  # LLAMA_TOOLS_CMAKE_ARGS is a list of arguments
  cmake -S "$src" -B "$tools_build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
    "${launcher[@]}" ${LLAMA_TOOLS_CMAKE_ARGS:-} >/dev/null
fi
nice -n 10 flock /tmp/llamanet-build.lock cmake --build "$tools_build" -j"${JOBS:-2}" --target "$@"
