#!/usr/bin/env bash
# `cmake --install` of the llamanet component, then a consumer project built against the
# installed tree with find_package(llamanet), and run.
# Usage: install_test.sh BUILD_DIR CONSUMER_SRC GENERATOR CXX_COMPILER EXAMPLE_SOURCE [LINK_FLAGS]
set -euo pipefail
build=$1 consumer=$2 generator=$3 cxx=$4 example=$5 link_flags=${6:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/llamanet-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" --component llamanet >/dev/null
for f in include/llamanet/client.h include/llamanet/status.h include/llamanet/options.h include/llamanet/types.h \
         bin/llamanet; do
  [[ -e "$tmp/prefix/$f" ]] || { echo "not installed: $f"; exit 1; }
done
for f in libllamanet.a llamanetConfig.cmake llamanetConfigVersion.cmake llamanetTargets.cmake; do
  [[ -n "$(find "$tmp/prefix" -name "$f")" ]] || { echo "not installed: $f"; exit 1; }
done
# Only the public headers install, and they include nothing from src/.
if [[ -n "$(find "$tmp/prefix/include" -type f ! -path '*/llamanet/*')" ]]; then echo "stray headers"; exit 1; fi
if grep -rEn '#include "(core|dht|client|node)/' "$tmp/prefix/include"; then echo "a public header includes internals"; exit 1; fi

cmake -S "$consumer" -B "$tmp/build" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$tmp/prefix" -DLLAMANET_EXAMPLE="$example" -DCMAKE_EXE_LINKER_FLAGS="$link_flags" >/dev/null
cmake --build "$tmp/build" -j2 >/dev/null
"$tmp/build/consumer"
"$tmp/prefix/bin/llamanet" --help >/dev/null
echo "install test OK"
