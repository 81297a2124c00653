#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a working local LlamaNet swarm: installs
# the dependencies, builds, makes the demo model, starts three nodes on 127.0.0.1 (one
# bootstrap node, two joining through it), waits until they see each other, sends a request,
# and keeps them running until Ctrl-C, which stops only the nodes this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_PORT=${BASE_PORT:-8000}   # nodes get HTTP 8000, 8002, 8004 and DHT 8001, 8003, 8005

scripts/install-deps.sh
scripts/build.sh
model=build/models/tiny-f16.gguf   # made by the build (llamanet-mkmodel --preset tiny)
state=$(mktemp -d -t llamanet-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "stopped; logs were in $state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_node() {  # index, extra args...
  local i=$1; shift
  local port=$((BASE_PORT + 2 * i)) dht=$((BASE_PORT + 2 * i + 1))
  build/src/node/llamanet-node --model-path "$model" --host 127.0.0.1 --port "$port" --dht-port "$dht" \
    --node-id "demo-node-$i" --key-file "$state/node-$i.key" --heartbeat-interval 2 "$@" \
    >"$state/node-$i.log" 2>&1 &
  pids+=($!)
}
start_node 0
start_node 1 --bootstrap-nodes "127.0.0.1:$((BASE_PORT + 1))"
start_node 2 --bootstrap-nodes "127.0.0.1:$((BASE_PORT + 1))"

url="http://127.0.0.1:$BASE_PORT"
for _ in $(seq 1 150); do
  count=$(curl -sf "$url/nodes" 2>/dev/null | grep -o '"node_id"' | wc -l || true)
  [ "${count:-0}" -ge 3 ] && break
  for p in "${pids[@]}"; do
    if ! kill -0 "$p" 2>/dev/null; then echo "a node failed to start:"; tail -5 "$state"/node-*.log; exit 1; fi
  done
  sleep 0.2
done
echo "Nodes in the swarm: $(curl -sf "$url/nodes" | grep -o '"node_id":"[^"]*"' | cut -d'"' -f4 | tr '\n' ' ')"
echo "A request through the first node (OpenAI API):"
curl -sf "$url/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"llamanet","messages":[{"role":"user","content":"Hello, LlamaNet!"}],"max_tokens":24}'
echo
cat <<MSG

A local LlamaNet swarm of three nodes is running (the demo model has random weights, so its
text is gibberish; every code path is the real one).
  Web UI:   $url/
  OpenAI:   curl $url/v1/chat/completions -H 'Content-Type: application/json' \\
              -d '{"messages":[{"role":"user","content":"Hi"}],"max_tokens":32}'
  Native:   curl -X POST $url/generate -H 'Content-Type: application/json' -d '{"prompt":"Hi","max_tokens":32}'
  Swarm:    curl $url/nodes
  Logs:     $state/node-*.log
Press Ctrl-C to stop.
MSG
wait "${pids[0]}"
