#!/usr/bin/env bash
# llamanet-node as a user runs it: bad configuration exits 2 with one line on stderr; a
# running node answers, and SIGTERM stops it with exit code 0 within a few seconds.
set -u
node_bin=$1
model=$2
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect_exit2() {
  local what=$1; shift
  "$node_bin" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ]; then
    echo "FAIL: $what: exit $rc, $lines stderr lines: $(cat "$tmp/err")"
    fail=1
  else
    echo "ok: $what: $(cat "$tmp/err")"
  fi
}

expect_exit2 "unknown flag" --model-path "$model" --bogus
expect_exit2 "bad port" --model-path "$model" --port 99999
expect_exit2 "missing model" --model-path "$tmp/none.gguf" --host 127.0.0.1 --port 0 --dht-port 0 --key-file "$tmp/k.key"
expect_exit2 "not a model" --model-path /etc/hostname --host 127.0.0.1 --port 0 --dht-port 0 --key-file "$tmp/k.key"

"$node_bin" --model-path "$model" --host 127.0.0.1 --port 0 --dht-port 0 --node-id cli-test --threads 1 \
  --key-file "$tmp/node.key" >"$tmp/log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/log" | head -1)
  [ -n "$port" ] && break
  sleep 0.05
done
if [ -z "$port" ]; then
  echo "FAIL: the node never said where it listens"; cat "$tmp/log"; kill -9 $pid; exit 1
fi
body=$(curl -s -m 30 -X POST "http://127.0.0.1:$port/generate" -H 'Content-Type: application/json' \
  -d '{"prompt":"hi","max_tokens":4}')
case "$body" in
  *'"node_id":"cli-test"'*) echo "ok: /generate answered" ;;
  *) echo "FAIL: /generate: $body"; fail=1 ;;
esac
kill -TERM $pid
rc=124
for _ in $(seq 1 100); do
  if ! kill -0 $pid 2>/dev/null; then wait $pid; rc=$?; break; fi
  sleep 0.05
done
if [ "$rc" -ne 0 ]; then
  echo "FAIL: SIGTERM: exit $rc"; kill -9 $pid 2>/dev/null; fail=1
else
  echo "ok: SIGTERM stopped the node with exit 0"
fi
exit $fail
