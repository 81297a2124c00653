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
# MODEL (models/tinyllama-1.1b-q4_0.gguf).
set -euo pipefail
cd "$(dirname "$0")/../.."

threads=${THREADS:-2}
n_ctx=${N_CTX:-512}
slots=${SLOTS:-4}
rounds=${ROUNDS:-3}
build=${BUILD:-build}
model=${MODEL:-models/tinyllama-1.1b-q4_0.gguf}

# 1. The node, and llama-server on the same llama.cpp libraries; the model, made once.
source bench/lib/bench.sh
build_targets "$build" llamanet-node llamanet-mkmodel llama-server
llama_server=$build/bin/llama-server
llamanet_node=$build/src/node/llamanet-node
make_model "$build" "$model"

tmp=$(mktemp -d)
trap 'stop_servers; rm -rf "$tmp"' EXIT

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
