#!/usr/bin/env bash
# Fuzzes the DHT datagram decoder with libFuzzer for $1 seconds (default 60).
# Builds with clang in build-fuzz/ (its own folder); exits non-zero on a crash, a sanitizer
# report or a build failure. Installs nothing. Needs the apt packages:
#   clang libclang-rt-14-dev cmake ninja-build libssl-dev nlohmann-json3-dev
# (libclang-rt-14-dev provides libFuzzer and the sanitizer runtimes for -fsanitize=fuzzer).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"

CXX="${CXX_FUZZ:-clang++}" cmake -S "$root/fuzz/dht" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2

# Work on a copy of the seed corpus so that the tree stays clean.
corpus="$build/corpus"
mkdir -p "$corpus" "$build/artifacts"
cp -n "$root/fuzz/dht/corpus/"* "$corpus/" 2>/dev/null || true

exec "$build/dht_wire_codec_fuzzer" "$corpus" \
  -max_total_time="$seconds" -max_len=9000 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/artifacts/" -print_final_stats=1
