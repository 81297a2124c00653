#!/usr/bin/env python3
"""What an idle node pays to stay in the swarm (issue 12), with real llamanet-node processes on
127.0.0.1: for each swarm size, N nodes (two models, alternating) join, each routes one request
for the other model (so it holds candidates, as a node in use does), then all sit idle while
every node's DHT counters (GET /dht/status) and CPU time (/proc/PID/stat) are read at the start
and the end of the measured window. The default warm-up outlasts the directory's demand (three
heartbeats after the setup's last GET /nodes), so the window measures a node that nobody
watches: its candidates' polls and pushes, its publishing and the DHT's upkeep. Prints per node: datagrams/s and bytes/s sent plus received
(mean and max), CPU as a share of one core (mean and max), and how many nodes /nodes listed.

With --before-bin, the same runs with another build of the node (the design before issue 12)
come first, and the table shows both, side by side.

Usage: idle_cost_bench.py NODE_BIN MKMODEL_BIN [--before-bin NODE_BIN] [--sizes 5,10,20]
                          [--heartbeat 10] [--warmup 35] [--measure 60]
Starts only its own nodes, stops them by PID. Not a test: numbers on a shared machine are
noisy; compare the designs of one run.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "swarm"))
from swarm_harness import Harness, http, wait_until  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def counters(node):
    status, _, body = http("GET", node.url + "/dht/status", timeout=10)
    if status != 200:
        raise RuntimeError("%s: /dht/status answered %d" % (node.name, status))
    dgrams = body["datagrams_in"] + body["datagrams_out"]
    nbytes = body["bytes_in"] + body["bytes_out"] if "bytes_in" in body else None
    return dgrams, nbytes, cpu_seconds(node.proc.pid)


def listed(node):
    status, _, body = http("GET", node.url + "/nodes", timeout=10)
    return len(body["nodes"]) if status == 200 else 0


def run(design, node_bin, mkmodel, size, args):
    h = Harness(node_bin, mkmodel, None)
    try:
        models = [h.model("model-a", 11), h.model("model-b", 22)]
        nodes = []
        for i in range(size):
            boot = [nodes[0].dht_address] if nodes else []
            n = h.node("n%d" % i, models[i % 2], bootstrap=boot, heartbeat=args.heartbeat)
            n.start()
            nodes.append(n)
        wait_until(lambda: all(listed(n) >= size for n in nodes), timeout=max(30, 3 * args.heartbeat))
        for i, n in enumerate(nodes):
            other = "model-b" if i % 2 == 0 else "model-a"
            status, _, body = http("POST", n.url + "/v1/completions",
                                   {"model": other, "prompt": "Hi", "max_tokens": 1}, timeout=60)
            if status != 200:
                raise RuntimeError("%s could not route to %s: %s %s" % (n.name, other, status, body))
        time.sleep(args.warmup)
        start = [counters(n) for n in nodes]
        t0 = time.time()
        time.sleep(args.measure)
        end = [counters(n) for n in nodes]
        elapsed = time.time() - t0
        dg = [(e[0] - s[0]) / elapsed for s, e in zip(start, end)]
        by = [(e[1] - s[1]) / elapsed for s, e in zip(start, end)] if start[0][1] is not None else None
        cpu = [100 * (e[2] - s[2]) / elapsed for s, e in zip(start, end)]
        seen = [listed(n) for n in nodes]
        return {"design": design, "nodes": size, "dg": dg, "bytes": by, "cpu": cpu, "listed": seen}
    finally:
        h.close()


def line(r):
    def mm(values, fmt):
        return (fmt % statistics.mean(values)) + " / " + (fmt % max(values))
    by = mm(r["bytes"], "%.0f") if r["bytes"] else "n/a (no byte counters)"
    return "%-7s %5d | %21s | %25s | %13s | %d-%d" % (
        r["design"], r["nodes"], mm(r["dg"], "%.1f"), by, mm(r["cpu"], "%.2f%%"),
        min(r["listed"]), max(r["listed"]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("node_bin")
    p.add_argument("mkmodel_bin")
    p.add_argument("--before-bin")
    p.add_argument("--sizes", default="5,10,20")
    p.add_argument("--heartbeat", type=int, default=10)
    p.add_argument("--warmup", type=float, default=35)
    p.add_argument("--measure", type=float, default=60)
    args = p.parse_args()
    designs = ([("before", args.before_bin)] if args.before_bin else []) + [("after", args.node_bin)]
    sizes = [int(s) for s in args.sizes.split(",")]
    print("idle cost per node: %d s heartbeat, %.0f s warm-up, %.0f s measured; two models; each node"
          " routed one request for the other model first" % (args.heartbeat, args.warmup, args.measure))
    print("design  nodes | dgram/s mean / max     | bytes/s mean / max        | cpu mean / max | /nodes lists")
    results = []
    for size in sizes:
        for design, binary in designs:
            r = run(design, binary, args.mkmodel_bin, size, args)
            results.append(r)
            print(line(r), flush=True)
    for design, _ in designs:
        mine = {r["nodes"]: statistics.mean(r["dg"]) for r in results if r["design"] == design}
        if len(mine) > 1:
            lo, hi = min(mine), max(mine)
            print("%s: datagrams/s per node at %d nodes / at %d nodes = %.2f"
                  % (design, hi, lo, mine[hi] / mine[lo] if mine[lo] else float("inf")))


if __name__ == "__main__":
    main()
