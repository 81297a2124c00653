#!/usr/bin/env bash
# Runs a command against a fresh llamanet-node on 127.0.0.1 and a free port, then stops that
# node (by its PID only) and exits with the command's status.
#
#   with_node.sh NODE_BIN MODEL [node flags...] -- COMMAND [ARGS...]
#
# The command sees LLAMANET_BASE_URL (http://127.0.0.1:PORT) and LLAMANET_NODE_LOG (the
# node's log file, kept until the command ends).
set -u
if [ $# -lt 4 ]; then
  echo "usage: $0 NODE_BIN MODEL [node flags...] -- COMMAND [ARGS...]" >&2
  exit 2
fi
node_bin=$1
model=$2
shift 2
node_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  node_args+=("$1")
  shift
done
shift  # the --

tmp=$(mktemp -d)
log=$tmp/node.log
"$node_bin" --model-path "$model" --host 127.0.0.1 --port 0 --dht-port 0 --threads 1 --key-file "$tmp/node.key" "${node_args[@]}" >"$log" 2>&1 &
pid=$!

stop_node() {
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap stop_node EXIT

# --port 0 picks a free port; the node says which once it listens.
port=""
for _ in $(seq 1 600); do
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$port" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with_node.sh: llamanet-node exited before it listened:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.05
done
if [ -z "$port" ]; then
  echo "with_node.sh: llamanet-node never said where it listens:" >&2
  cat "$log" >&2
  exit 1
fi

export LLAMANET_BASE_URL="http://127.0.0.1:$port"
export LLAMANET_NODE_LOG="$log"
"$@"
rc=$?
if [ "$rc" -ne 0 ]; then
  echo "--- llamanet-node log (last 40 lines) ---" >&2
  tail -n 40 "$log" >&2
fi
exit "$rc"
