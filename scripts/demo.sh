#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a working LlamaNet: installs the
# dependencies, builds, makes the demo model, starts a node on 127.0.0.1, checks that it
# answers, and keeps it running until Ctrl-C (which stops only what this script started).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
DHT_PORT=${DHT_PORT:-8001}

scripts/install-deps.sh
scripts/build.sh
model=build/models/tiny-f16.gguf   # made by the build (llamanet-mkmodel --preset tiny)

log=$(mktemp -t llamanet-demo.XXXXXX.log)
build/src/node/llamanet-node --model-path "$model" --host 127.0.0.1 --port "$PORT" --dht-port "$DHT_PORT" \
  --node-id demo-node >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT INT TERM

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  if ! kill -0 $pid 2>/dev/null; then cat "$log"; exit 1; fi
  sleep 0.1
done
echo "A request to the node:"
curl -sf -X POST "http://127.0.0.1:$PORT/generate" -H 'Content-Type: application/json' \
  -d '{"prompt":"Hello, LlamaNet!","max_tokens":24}'
echo
cat <<MSG

LlamaNet node running (the demo model has random weights, so its text is gibberish).
  API:      http://127.0.0.1:$PORT/
  Try:      curl -X POST http://127.0.0.1:$PORT/generate -H 'Content-Type: application/json' -d '{"prompt":"Hi","max_tokens":32}'
  Log:      $log
Press Ctrl-C to stop.
MSG
wait $pid
