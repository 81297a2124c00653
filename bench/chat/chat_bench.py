#!/usr/bin/env python3
"""Multi-turn chat benchmark: time to first token per turn, LlamaNet against llama-server.

Conversations of TURNS turns (a user message of about USER_TOKENS tokens, then GEN_TOKENS
generated tokens, greedy, ignore_eos), the whole history resent every turn, CONVS of them at
once. Systems, one after another on the same machine and model:

  single   node (prefix cache on), node with --prefix-cache=off, llama-server (its slot and
           host-RAM caches on, --cache-ram equal to the node's)
  swarm    three nodes, each turn entering at another node (cache-aware routing decides
           where it runs), against three llama-servers behind a round-robin balancer

Prints TTFT p50 / p90 per turn for each system and the goals' ratios. Not a test: timings on a
shared machine are noisy, the ratios within one run are what counts.

  bench/chat/run.sh            (builds what is missing, makes the model, runs this)
"""
import argparse
import http.client
import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

WORDS = ("river mountain signal harbor lantern orchard meadow engine copper violet summit quarry "
         "garden falcon timber glacier canyon beacon thunder marble cobalt willow ember prairie").split()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process on 127.0.0.1; only this process is ever signalled."""

    def __init__(self, name, args, port, log_dir):
        self.name, self.port = name, port
        self.log_path = os.path.join(log_dir, name + ".log")
        self.proc = subprocess.Popen(args, stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit("%s exited:\n%s" % (self.name, open(self.log_path, errors="replace").read()[-3000:]))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/v1/models")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        sys.exit("%s never became ready" % self.name)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def user_message(rng, tokens):
    # These words take about 2.6 tokens each in the benchmark model's vocabulary (measured from
    # usage.prompt_tokens); the count matters, not the exact figure.
    return " ".join(rng.choice(WORDS) for _ in range(max(1, int(tokens / 2.6))))


def stream_turn(port, messages, gen_tokens, timeout=900):
    """Sends one streamed chat turn; returns (ttft seconds, reply text, served_by)."""
    body = json.dumps({"model": "llamanet", "messages": messages, "max_tokens": gen_tokens, "temperature": 0,
                       "ignore_eos": True, "stream": True})
    start = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        raise RuntimeError("HTTP %d: %s" % (r.status, r.read()[:300]))
    ttft, text = None, []
    for raw in r:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[5:])
        for choice in chunk.get("choices", []):
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                if ttft is None:
                    ttft = time.perf_counter() - start
                text.append(piece)
    c.close()
    return (ttft if ttft is not None else time.perf_counter() - start), "".join(text), r.getheader("X-LlamaNet-Node")


def run_conversations(ports_for_turn, convs, turns, user_tokens, gen_tokens, seed):
    """Runs `convs` conversations at once; ports_for_turn(c, turn) gives the entry port.
    Returns ttfts[turn] = [seconds per conversation]."""
    ttfts = [[None] * convs for _ in range(turns)]
    errors = []

    def converse(c):
        rng = random.Random(seed * 1000 + c)
        messages = [{"role": "system", "content": "You are assistant %d. Answer at length." % c}]
        for turn in range(turns):
            messages.append({"role": "user", "content": user_message(rng, user_tokens)})
            try:
                ttft, reply, _ = stream_turn(ports_for_turn(c, turn), messages, gen_tokens)
            except Exception as e:  # a failed turn ends the conversation; reported below
                errors.append("conversation %d turn %d: %s" % (c, turn + 1, e))
                return
            ttfts[turn][c] = ttft
            messages.append({"role": "assistant", "content": reply})

    threads = [threading.Thread(target=converse, args=(c,)) for c in range(convs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("benchmark failed:\n" + "\n".join(errors))
    return ttfts


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def print_table(title, results):
    names = list(results)
    print("\n%s: TTFT seconds per turn, p50 / p90" % title)
    print("turn  " + "".join("%-24s" % n for n in names))
    turns = len(next(iter(results.values())))
    for t in range(turns):
        row = "%-6d" % (t + 1)
        for n in names:
            v = results[n][t]
            row += "%-24s" % ("%.2f / %.2f" % (statistics.median(v), pct(v, 0.9)))
        print(row)


def p50(results, name, turn):
    return statistics.median(results[name][turn])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--node-bin", required=True)
    ap.add_argument("--llama-server-bin", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--convs", default="4,12", help="concurrent conversations, one run each (4,12)")
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--user-tokens", type=int, default=100)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--slots", type=int, default=4)
    ap.add_argument("--n-ctx", type=int, default=2048, help="context per slot")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache-ram", type=int, default=2048, help="MiB, both systems")
    ap.add_argument("--scenarios", default="single,swarm")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    convs_list = [int(x) for x in a.convs.split(",")]
    scenarios = a.scenarios.split(",")
    tmp = tempfile.mkdtemp(prefix="llamanet-chat-bench-")
    # A TERM (or ^C) still stops the servers this started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("chat_bench: stopped"))
    servers = []

    def node(name, extra=(), bootstrap=None):
        port, dht = free_port(), free_port()
        args = [a.node_bin, "--model-path", a.model, "--host", "127.0.0.1", "--port", str(port), "--dht-port", str(dht),
                "--node-id", name, "--key-file", os.path.join(tmp, name + ".key"), "--threads", str(a.threads),
                "--parallel", str(a.slots), "--n-ctx", str(a.n_ctx), "--cache-ram", str(a.cache_ram),
                "--heartbeat-interval", "2"] + list(extra)
        if bootstrap:
            args += ["--bootstrap-nodes", bootstrap]
        s = Server(name, args, port, tmp)
        s.dht = dht
        servers.append(s)
        return s

    def llama_server(name):
        port = free_port()
        s = Server(name, [a.llama_server_bin, "-m", a.model, "--host", "127.0.0.1", "--port", str(port),
                          "-t", str(a.threads), "-tb", str(a.threads), "-c", str(a.n_ctx * a.slots), "-np", str(a.slots),
                          "-b", "512", "-ub", "512", "--cache-ram", str(a.cache_ram), "--no-webui"], port, tmp)
        servers.append(s)
        return s

    def stop_all():
        while servers:
            servers.pop().stop()

    print("== %s: %d slots x %d context, %d threads, %d turns of ~%d user + %d generated tokens, cache-ram %d MiB"
          % (os.path.basename(a.model), a.slots, a.n_ctx, a.threads, a.turns, a.user_tokens, a.gen_tokens, a.cache_ram))
    try:
        for convs in convs_list:
            if "single" in scenarios:
                results = {}
                for label, start in (("node", lambda: node("bench")),
                                     ("node, cache off", lambda: node("bench", ["--prefix-cache=off"])),
                                     ("llama-server", lambda: llama_server("llama-server"))):
                    s = start()
                    s.wait_ready()
                    t0 = time.time()
                    results[label] = run_conversations(lambda c, t, p=s.port: p, convs, a.turns, a.user_tokens,
                                                       a.gen_tokens, a.seed)
                    print("  %s, %d conversations: %.0f s" % (label, convs, time.time() - t0), flush=True)
                    stop_all()
                print_table("one server, %d conversations on %d slots" % (convs, a.slots), results)
                last = a.turns - 1
                print("node: turn %d / turn 1 p50 = %.2f (goal <= 1.3); node / llama-server p50 at turn %d = %.2f "
                      "(goal <= 1.0); cache off / on at turn %d = %.2f"
                      % (a.turns, p50(results, "node", last) / p50(results, "node", 0), a.turns,
                         p50(results, "node", last) / p50(results, "llama-server", last), a.turns,
                         p50(results, "node, cache off", last) / p50(results, "node", last)))
            if "swarm" in scenarios:
                results = {}
                boot = node("s1")
                peers = [boot] + [node(n, bootstrap="127.0.0.1:%d" % boot.dht) for n in ("s2", "s3")]
                for s in peers:
                    s.wait_ready()
                deadline = time.time() + 60
                while time.time() < deadline:
                    c = http.client.HTTPConnection("127.0.0.1", boot.port, timeout=5)
                    c.request("GET", "/nodes")
                    if len(json.loads(c.getresponse().read())["nodes"]) == 3:
                        break
                    time.sleep(0.5)
                t0 = time.time()
                results["3-node swarm"] = run_conversations(lambda c, t: peers[(c + t) % 3].port, convs, a.turns,
                                                            a.user_tokens, a.gen_tokens, a.seed)
                print("  3-node swarm, %d conversations: %.0f s" % (convs, time.time() - t0), flush=True)
                stop_all()
                backends = [llama_server("llama-server-%d" % i) for i in range(3)]
                for s in backends:
                    s.wait_ready()
                rotation, lock = itertools.count(), threading.Lock()

                def round_robin(c, t):
                    with lock:
                        return backends[next(rotation) % 3].port
                t0 = time.time()
                results["3 llama-servers, RR"] = run_conversations(round_robin, convs, a.turns, a.user_tokens,
                                                                   a.gen_tokens, a.seed)
                print("  3 llama-servers, %d conversations: %.0f s" % (convs, time.time() - t0), flush=True)
                stop_all()
                print_table("three servers, %d conversations" % convs, results)
                last = a.turns - 1
                print("swarm / round-robin llama-servers p50 at turn %d = %.2f (goal <= 0.5)"
                      % (a.turns, p50(results, "3-node swarm", last) / p50(results, "3 llama-servers, RR", last)))
    finally:
        stop_all()


if __name__ == "__main__":
    main()
