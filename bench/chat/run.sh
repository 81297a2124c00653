#!/usr/bin/env bash
# The multi-turn chat benchmark (chat_bench.py) with what it needs: llama-server built from the
# same pinned llama.cpp, the node, and the tinyllama-1.1b-shaped Q4_0 model. Arguments go to
# chat_bench.py (--convs 4,12 --turns 10 --user-tokens 100 --gen-tokens 64 --scenarios
# single,swarm ...). On 2 CPU cores the full run takes about an hour; --gen-tokens 16 keeps the
# prompts (what TTFT measures) and cuts most of the generation time.
#
#   bench/chat/run.sh [chat_bench.py options]     (from anywhere; after the main build)
#
# Environment: BUILD (build), MODEL (models/tinyllama-1.1b-q4_0.gguf).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
model=${MODEL:-models/tinyllama-1.1b-q4_0.gguf}
# shellcheck source=../lib/bench.sh
source bench/lib/bench.sh
build_targets "$build" llamanet-node llamanet-mkmodel llama-server
make_model "$build" "$model"
exec python3 bench/chat/chat_bench.py --node-bin "$build/src/node/llamanet-node" \
  --llama-server-bin "$build/bin/llama-server" --model "$model" "$@"
