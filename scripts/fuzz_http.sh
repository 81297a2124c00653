#!/usr/bin/env bash
# Fuzzes the HTTP request path (raw bytes through the connection gate, cpp-httplib and the
# native and OpenAI request schemas) with libFuzzer for $1 seconds (default 60). Builds with
# clang in build-fuzz-http/; needs the main build first (scripts/build.sh), whose llama.cpp
# source carries cpp-httplib. Exits non-zero on a crash, a sanitizer report or a build failure.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz-http"
httplib="$root/build/_deps/llama_cpp-src/vendor/cpp-httplib"
[ -f "$httplib/httplib.cpp" ] || { echo "no $httplib/httplib.cpp: run scripts/build.sh first"; exit 1; }

CXX="${CXX_FUZZ:-clang++}" cmake -S "$root/fuzz/http" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLLAMANET_HTTPLIB_DIR="$httplib" >/dev/null
cmake --build "$build" -j2

corpus="$build/corpus"
mkdir -p "$corpus" "$build/artifacts"
cp -n "$root/fuzz/http/corpus/"* "$corpus/" 2>/dev/null || true

exec "$build/http_request_fuzzer" "$corpus" \
  -max_total_time="$seconds" -max_len=20000 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/artifacts/" -print_final_stats=1
