#!/usr/bin/env bash
# Three nodes on distinct addresses, each in a network namespace of its own, joined by a
# bridge in a fourth: checks the address each node advertises and that a partitioned node
# drops out of its peers' view and comes back after the partition heals. The namespaces,
# links and nodes are made here and removed on exit. Skips (77) without the rights.
set -u
node_bin=$1
model=$2
hb=1
tag="lln$$"
subnet=10.213.$(( $$ % 200 + 20 ))
pids=()
tmp=$(mktemp -d)

cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for ns in "$tag-1" "$tag-2" "$tag-3" "$tag-hub"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v curl >/dev/null || ! ip netns add "$tag-hub" 2>/dev/null; then
  echo "FAIL (a tool this test needs is missing; scripts/install-deps.sh installs it): needs root, iproute2, curl and network namespaces"
  exit 1
fi
ip -n "$tag-hub" link add br0 type bridge && ip -n "$tag-hub" link set br0 up || exit 1
for i in 1 2 3; do
  ns="$tag-$i"
  ip netns add "$ns" || exit 1
  ip link add "${tag}v$i" type veth peer name "${tag}h$i" || exit 1
  ip link set "${tag}v$i" netns "$ns"
  ip link set "${tag}h$i" netns "$tag-hub"
  ip -n "$tag-hub" link set "${tag}h$i" master br0 up
  ip -n "$ns" addr add "$subnet.$i/24" dev "${tag}v$i"
  ip -n "$ns" link set "${tag}v$i" up
  ip -n "$ns" link set lo up
done

start_node() {  # index, extra args...
  local i=$1; shift
  ip netns exec "$tag-$i" "$node_bin" --model-path "$model" --port 8000 --dht-port 8001 --node-id "ns-node-$i" \
    --key-file "$tmp/n$i.key" --heartbeat-interval $hb --parallel 1 --threads 1 --n-ctx 256 "$@" \
    >"$tmp/n$i.log" 2>&1 &
  pids+=($!)
}
# Node 1 binds its address; nodes 2 and 3 bind every address and must work out which one to
# advertise from the route toward their bootstrap node.
start_node 1 --host "$subnet.1"
start_node 2 --host 0.0.0.0 --bootstrap-nodes "$subnet.1:8001"
start_node 3 --host 0.0.0.0 --bootstrap-nodes "$subnet.1:8001"

nodes_seen_from() {  # ns index -> "node_id=ip" lines
  ip netns exec "$tag-$1" curl -s -m 3 "http://$subnet.$1:8000/nodes" |
    python3 -c 'import json,sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
for n in d["nodes"]:
    print("%s=%s" % (n["node_id"], n["ip"]))' | sort
}
wait_for() {  # seconds, ns index, expected output
  local deadline=$(( SECONDS + $1 ))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(nodes_seen_from "$2")" = "$3" ] && return 0
    sleep 0.2
  done
  return 1
}

all=$(printf 'ns-node-1=%s.1\nns-node-2=%s.2\nns-node-3=%s.3' "$subnet" "$subnet" "$subnet")
fail=0
if wait_for 30 1 "$all" && wait_for 10 3 "$all"; then
  echo "ok: every node advertises its own address"
else
  echo "FAIL: node 1 sees: $(nodes_seen_from 1 | tr '\n' ' ') node 3 sees: $(nodes_seen_from 3 | tr '\n' ' ')"
  tail -5 "$tmp"/n*.log
  exit 1
fi

ip -n "$tag-hub" link set "${tag}h3" down
without3=$(printf 'ns-node-1=%s.1\nns-node-2=%s.2' "$subnet" "$subnet")
if wait_for $(( 3 * hb + 4 )) 1 "$without3"; then
  echo "ok: the partitioned node dropped out"
else
  echo "FAIL: after the partition node 1 sees: $(nodes_seen_from 1 | tr '\n' ' ')"; fail=1
fi

ip -n "$tag-hub" link set "${tag}h3" up
if wait_for 30 1 "$all"; then
  echo "ok: the node came back after the partition healed"
else
  echo "FAIL: after healing node 1 sees: $(nodes_seen_from 1 | tr '\n' ' ')"; fail=1
  tail -20 "$tmp/n3.log"
fi
exit $fail
