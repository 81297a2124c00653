#!/usr/bin/env bash
# LlamaNet against llama.cpp's own llama-server, built from the same pinned llama.cpp, on the
# same model (tinyllama-1.1b shapes, Q4_0), the same threads, per-slot context and 4 slots:
# one streamed /v1/completions request, then 4 concurrent ones (75-token prompts, 64 tokens,
# ignore_eos), both servers in the same run, taking turns round by round (load.mjs). Prints
# time to first token, tokens/s per request and in aggregate, and the ratios
# LlamaNet/llama-server. The machine's other load moves the numbers; the turns keep the
# ratios fair.
#
#   bench/server/run.sh            (from the repository root, after the main build)
#
# Environment: THREADS (2), N_CTX per slot (512), SLOTS (4), ROUNDS (3), BUILD (build),
# LLAMA_SERVER_BUILD (build-llama-server), MODEL (models/tinyllama-1.1b-q4_0.gguf).
set -euo pipefail
cd "$(dirname "$0")/../.."

threads=${THREADS:-2}
n_ctx=${N_CTX:-512}
slots=${SLOTS:-4}
rounds=${ROUNDS:-3}
build=${BUILD:-build}
ls_build=${LLAMA_SERVER_BUILD:-build-llama-server}
model=${MODEL:-models/tinyllama-1.1b-q4_0.gguf}
lock=/tmp/llamanet-build.lock  # the build folder may be shared: one build at a time

src=$build/_deps/llama_cpp-src
if [ ! -f "$src/CMakeLists.txt" ]; then
  echo "run.sh: no llama.cpp source in $src: build LlamaNet first (cmake --build $build)" >&2
  exit 1
fi

# 1. llama-server from the very source the main build fetched, in its own folder.
if [ ! -f "$ls_build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$ls_build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
    -DGGML_CCACHE=ON -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
nice -n 10 flock "$lock" cmake --build "$ls_build" -j2 --target llama-server
nice -n 10 flock "$lock" cmake --build "$build" -j2 --target llamanet-node llamanet-mkmodel
llama_server=$ls_build/bin/llama-server
llamanet_node=$build/src/node/llamanet-node

# 2. The model, made once (models/ is git-ignored).
if [ ! -f "$model" ]; then
  mkdir -p "$(dirname "$model")"
  "$build/tools/mkmodel/llamanet-mkmodel" --output "$model" --preset tinyllama-1.1b --type q4_0
fi

tmp=$(mktemp -d)
pids=()
stop_servers() {
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid"
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
  done
}
trap 'stop_servers; rm -rf "$tmp"' EXIT

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_ready() {  # wait_ready PID URL LOG: until GET URL/v1/models answers 200
  for _ in $(seq 1 1200); do
    if ! kill -0 "$1" 2>/dev/null; then
      echo "run.sh: the server behind $2 exited:" >&2; tail -n 30 "$3" >&2; exit 1
    fi
    curl -sf -o /dev/null "$2/v1/models" && return 0
    sleep 0.1
  done
  echo "run.sh: the server at $2 never became ready" >&2; tail -n 30 "$3" >&2; exit 1
}

# 3. Both servers up at once (an idle one uses no CPU); the client takes turns between them.
echo "== $model: $threads threads, $slots slots x $n_ctx context each"
ls_port=$(free_port)
"$llama_server" -m "$model" --host 127.0.0.1 --port "$ls_port" -t "$threads" -tb "$threads" \
  -c $((n_ctx * slots)) -np "$slots" -b 512 -ub 512 --no-webui >"$tmp/llama-server.log" 2>&1 &
pids+=($!)
wait_ready "${pids[-1]}" "http://127.0.0.1:$ls_port" "$tmp/llama-server.log"
ln_port=$(free_port)
"$llamanet_node" --model-path "$model" --host 127.0.0.1 --port "$ln_port" --dht-port 0 --threads "$threads" \
  --n-ctx "$n_ctx" --parallel "$slots" --n-batch 512 >"$tmp/llamanet.log" 2>&1 &
pids+=($!)
wait_ready "${pids[-1]}" "http://127.0.0.1:$ln_port" "$tmp/llamanet.log"

node bench/server/load.mjs --server "llamanet=http://127.0.0.1:$ln_port" \
  --server "llama-server=http://127.0.0.1:$ls_port" \
  --prompt-tokens 75 --max-tokens 64 --concurrency "$slots" --rounds "$rounds"
