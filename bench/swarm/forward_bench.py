#!/usr/bin/env python3
"""The cost of one forwarding hop: 200 streamed /v1/completions sent to a node that forwards
them to the node serving the model, against the same requests sent straight to that node,
interleaved in one run. Prints time to first token and total time for both, and p50/p99 of the
added latency (forwarded minus direct, pair by pair).

Usage: forward_bench.py NODE_BIN MKMODEL_BIN [--requests N] [--max-tokens N]
Starts two nodes on 127.0.0.1 (and stops only those). Not a test: timings here are noisy.
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "swarm"))
from swarm_harness import Harness, wait_until  # noqa: E402


def stream_once(conn, model, max_tokens):
    body = json.dumps({"model": model, "prompt": "Benchmark", "max_tokens": max_tokens,
                       "temperature": 0, "stream": True, "ignore_eos": True})
    start = time.perf_counter()
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    first = None
    served_by = resp.getheader("X-LlamaNet-Node")
    while True:
        chunk = resp.read1(65536)
        if not chunk:
            break
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    if resp.status != 200:
        raise RuntimeError("HTTP %d" % resp.status)
    return (first - start) * 1000, (end - start) * 1000, served_by


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("node_bin")
    ap.add_argument("mkmodel_bin")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=8)
    a = ap.parse_args()
    h = Harness(a.node_bin, a.mkmodel_bin, None)
    try:
        front = h.node("front", h.model("front-model", 1)).start()
        server = h.node("server", h.model("served-model", 2), bootstrap=[front.dht_address]).start()
        if not wait_until(lambda: front.node_ids() == {"front", "server"}, timeout=20):
            sys.exit("the two nodes never saw each other")
        via = http.client.HTTPConnection("127.0.0.1", front.port, timeout=60)
        direct = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        for _ in range(5):  # warm-up: connections, caches
            stream_once(via, "served-model", a.max_tokens)
            stream_once(direct, "served-model", a.max_tokens)
        rows = []
        for i in range(a.requests):
            # Alternate which goes first so that drift in the machine's load hits both alike.
            if i % 2 == 0:
                f = stream_once(via, "served-model", a.max_tokens)
                d = stream_once(direct, "served-model", a.max_tokens)
            else:
                d = stream_once(direct, "served-model", a.max_tokens)
                f = stream_once(via, "served-model", a.max_tokens)
            if f[2] != "server":
                sys.exit("a forwarded request was served by %r" % f[2])
            rows.append((f, d))
        fwd_ttft = [r[0][0] for r in rows]
        dir_ttft = [r[1][0] for r in rows]
        fwd_total = [r[0][1] for r in rows]
        dir_total = [r[1][1] for r in rows]
        add_ttft = [f - d for f, d in zip(fwd_ttft, dir_ttft)]
        add_total = [f - d for f, d in zip(fwd_total, dir_total)]
        print("%d streamed requests each way, %d tokens, tiny model, 127.0.0.1" % (a.requests, a.max_tokens))
        print("                     p50 ms    p99 ms")
        print("direct   TTFT      %8.2f  %8.2f" % (pct(dir_ttft, 50), pct(dir_ttft, 99)))
        print("forward  TTFT      %8.2f  %8.2f" % (pct(fwd_ttft, 50), pct(fwd_ttft, 99)))
        print("direct   total     %8.2f  %8.2f" % (pct(dir_total, 50), pct(dir_total, 99)))
        print("forward  total     %8.2f  %8.2f" % (pct(fwd_total, 50), pct(fwd_total, 99)))
        print("added    TTFT      %8.2f  %8.2f   (goal: p50 < 2 ms)" % (pct(add_ttft, 50), pct(add_ttft, 99)))
        print("added    total     %8.2f  %8.2f" % (pct(add_total, 50), pct(add_total, 99)))
        print("mean added TTFT %.2f ms (stdev %.2f)" % (statistics.mean(add_ttft), statistics.pstdev(add_ttft)))
    finally:
        h.close()


if __name__ == "__main__":
    main()
