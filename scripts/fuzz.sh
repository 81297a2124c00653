#!/usr/bin/env bash
# Fuzzes one input path with libFuzzer for $2 seconds (default 60):
#   dht   the DHT datagram decoder (fuzz/dht)
#   http  the HTTP request path: raw bytes through the connection gate, cpp-httplib and the
#         native and OpenAI request schemas (fuzz/http; needs the main build first,
#         scripts/build.sh, whose llama.cpp source carries cpp-httplib)
# Builds with clang in build-fuzz-<target>/; exits non-zero on a crash, a sanitizer report or a
# build failure. Installs nothing. Needs the apt packages:
#   clang libclang-rt-14-dev cmake ninja-build libssl-dev nlohmann-json3-dev
# (libclang-rt-14-dev provides libFuzzer and the sanitizer runtimes for -fsanitize=fuzzer).
set -euo pipefail

target="${1:?usage: scripts/fuzz.sh dht|http [seconds]}"
seconds="${2:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz-$target"
configure=()
case "$target" in
  dht)  binary=dht_wire_codec_fuzzer; max_len=9000 ;;
  http) binary=http_request_fuzzer; max_len=20000
        httplib="$root/build/_deps/llama_cpp-src/vendor/cpp-httplib"
        [ -f "$httplib/httplib.cpp" ] || { echo "no $httplib/httplib.cpp: run scripts/build.sh first"; exit 1; }
        configure=(-DLLAMANET_HTTPLIB_DIR="$httplib") ;;
  *) echo "unknown fuzz target '$target' (dht or http)"; exit 2 ;;
esac

CXX="${CXX_FUZZ:-clang++}" cmake -S "$root/fuzz/$target" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "${configure[@]}" >/dev/null
cmake --build "$build" -j2

# Work on a copy of the seed corpus so that the tree stays clean.
corpus="$build/corpus"
mkdir -p "$corpus" "$build/artifacts"
cp -n "$root/fuzz/$target/corpus/"* "$corpus/" 2>/dev/null || true

exec "$build/$binary" "$corpus" \
  -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/artifacts/" -print_final_stats=1
