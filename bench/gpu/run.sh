#!/usr/bin/env bash
# A node against llama-server and the raw batched ceiling (llama-batched-bench), all built on
# the same pinned llama.cpp libraries with CUDA, on the tinyllama-1.1b-shaped Q4_0 model, at 1, 8, 32 and
# 64 concurrent streams in one run. Both servers get as many slots as the largest stream count
# and the same per-slot context; batched-bench decodes the same prompt and token counts. The
# goal on a GPU: the node's aggregate at >= 0.85 of the ceiling at 32 and 64 streams.
#
#   bench/gpu/run.sh                       (from the repository root; builds what it needs)
#   GPU=0 STREAMS=1,8 MAX_TOKENS=16 bench/gpu/run.sh      the same on the CPU, at small scale
#
# Environment: GPU (1; 0 leaves CUDA out and runs on the CPU), CUDA_ARCH (CMAKE_CUDA_ARCHITECTURES,
# 90; "native" for the GPU at hand), STREAMS (1,8,32,64), PROMPT_TOKENS (75), MAX_TOKENS (128),
# ROUNDS (2), THREADS (CPU threads; 2 on the CPU, 4 with a GPU), MODEL
# (models/tinyllama-1.1b-q4_0.gguf), BUILD (the build folder: build-gpu with a GPU, build
# without), LLAMANET_DEPS_DIR (passed to a fresh configure), JOBS (2).
set -euo pipefail
cd "$(dirname "$0")/../.."

gpu=${GPU:-1}
streams=${STREAMS:-1,8,32,64}
prompt_tokens=${PROMPT_TOKENS:-75}
max_tokens=${MAX_TOKENS:-128}
rounds=${ROUNDS:-2}
model=${MODEL:-models/tinyllama-1.1b-q4_0.gguf}
if [ "$gpu" = 1 ]; then
  build=${BUILD:-build-gpu}
  cuda_args="-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCH:-90}"
  threads=${THREADS:-4}
  ngl=999
else
  build=${BUILD:-build}
  cuda_args=""
  threads=${THREADS:-2}
  ngl=0
fi
slots=$(tr ',' '\n' <<<"$streams" | sort -n | tail -n 1)
n_ctx=$(( (prompt_tokens + max_tokens + 16 + 255) / 256 * 256 ))  # per slot, prompt and completion
n_batch=$(( slots > 512 ? slots : 512 ))

# 1. The node and mkmodel, llama-server and llama-batched-bench on the same llama.cpp libraries
#    (one CUDA compile), and the model.
if [ ! -f "$build/CMakeCache.txt" ]; then
  # shellcheck disable=SC2086  # cuda_args is a list of arguments
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    ${LLAMANET_DEPS_DIR:+-DLLAMANET_DEPS_DIR=$LLAMANET_DEPS_DIR} $cuda_args >/dev/null
fi
source bench/lib/bench.sh
build_targets "$build" llamanet-node llamanet-mkmodel llama-server llama-batched-bench
make_model "$build" "$model"
tmp=$(mktemp -d)
trap 'stop_servers; rm -rf "$tmp"' EXIT
echo "== $model: GPU=$gpu, $threads threads, $slots slots x $n_ctx context, streams $streams," \
     "$prompt_tokens-token prompts, $max_tokens tokens"

# 2. The ceiling: the same prompt and generation lengths decoded by llama.cpp alone, with the
#    context the servers get.
"$build/bin/llama-batched-bench" -m "$model" -c $((n_ctx * slots)) -b "$n_batch" -ub 512 \
  -npp "$prompt_tokens" -ntg "$max_tokens" -npl "$streams" -ngl "$ngl" -t "$threads" -tb "$threads" \
  --output-format jsonl >"$tmp/batched.log" 2>&1 ||
  { echo "run.sh: llama-batched-bench failed:" >&2; tail -n 30 "$tmp/batched.log" >&2; exit 1; }
ceiling=$(node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l.startsWith("{"));
  console.log(lines.map((l) => JSON.parse(l)).map((r) => `${r.pl}=${r.speed_tg}`).join(","));' "$tmp/batched.log")
if [ -z "$ceiling" ]; then
  echo "run.sh: llama-batched-bench printed no results:" >&2; tail -n 30 "$tmp/batched.log" >&2; exit 1
fi

# 3. Both servers up at once (an idle one costs nothing); the client takes turns between them.
ls_port=$(free_port)
"$build/bin/llama-server" -m "$model" --host 127.0.0.1 --port "$ls_port" -t "$threads" -tb "$threads" \
  -c $((n_ctx * slots)) -np "$slots" -b "$n_batch" -ub 512 -ngl "$ngl" --no-webui >"$tmp/llama-server.log" 2>&1 &
pids+=($!)
wait_ready "${pids[-1]}" "http://127.0.0.1:$ls_port" "$tmp/llama-server.log"
ln_port=$(free_port)
"$build/src/node/llamanet-node" --model-path "$model" --host 127.0.0.1 --port "$ln_port" --dht-port 0 \
  --threads "$threads" --n-ctx "$n_ctx" --parallel "$slots" --n-batch "$n_batch" --n-gpu-layers "$ngl" \
  >"$tmp/llamanet.log" 2>&1 &
pids+=($!)
wait_ready "${pids[-1]}" "http://127.0.0.1:$ln_port" "$tmp/llamanet.log"

node bench/gpu/streams.mjs --server "llamanet=http://127.0.0.1:$ln_port" \
  --server "llama-server=http://127.0.0.1:$ls_port" --streams "$streams" \
  --prompt-tokens "$prompt_tokens" --max-tokens "$max_tokens" --rounds "$rounds" --ceiling "$ceiling"
