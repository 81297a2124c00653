"""Swarm behaviour with real llamanet-node processes on 127.0.0.1 (issue: the swarm).

Usage: swarm_test.py NODE_BIN MKMODEL_BIN TINY_MODEL [unittest args]
Heartbeats are 1 s here, so "within 3 heartbeats" is 3 s plus the view's refresh.
"""
from http.client import HTTPConnection
import json
import socket
import sys
import threading
import time
import unittest
import urllib.request

from swarm_harness import Harness, http, wait_until

HEARTBEAT = 1


def completion(node, model, max_tokens=8, stream=False, timeout=60):
    return http("POST", node.url + "/v1/completions",
                {"model": model, "prompt": "Hello", "max_tokens": max_tokens, "temperature": 0, "stream": stream},
                timeout=timeout)


def datagram_sources(sock, ports, timeout):
    """The source ports of the datagrams `sock` receives until every one of `ports` has sent
    one, or `timeout` seconds have passed."""
    seen = set()
    deadline = time.time() + timeout
    while not ports <= seen and time.time() < deadline:
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            seen.add(sock.recvfrom(65536)[1][1])
        except socket.timeout:
            break
    return seen & ports


def served_by(headers):
    return headers.get("X-LlamaNet-Node") or headers.get("x-llamanet-node")


class SwarmTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness(*ARGS)
        self.model_a = self.h.model("model-a", 11)
        self.model_b = self.h.model("model-b", 22)

    def tearDown(self):
        self.h.close()

    def three_nodes(self, second_b=False):
        boot = self.h.node("n1", self.model_a).start()
        n2 = self.h.node("n2", self.model_b if second_b else self.model_a, bootstrap=[boot.dht_address]).start()
        n3 = self.h.node("n3", self.model_b, bootstrap=[boot.dht_address]).start()
        nodes = [boot, n2, n3]
        everyone = {"n1", "n2", "n3"}
        ok = wait_until(lambda: all(n.node_ids() == everyone for n in nodes), timeout=20)
        self.assertTrue(ok, "nodes never saw each other: %s" % [sorted(n.node_ids()) for n in nodes])
        return nodes

    def test_any_node_answers_for_both_models(self):
        nodes = self.three_nodes()
        for entry in nodes:
            status, _, body = http("GET", entry.url + "/v1/models")
            self.assertEqual(status, 200)
            self.assertEqual({m["id"] for m in body["data"]} >= {"model-a", "model-b"}, True, body)
            for model, servers in (("model-a", {"n1", "n2"}), ("model-b", {"n3"})):
                status, headers, body = completion(entry, model)
                self.assertEqual(status, 200, body)
                self.assertIn(served_by(headers), servers, "%s asked %s" % (model, entry.name))
                self.assertEqual(body["model"], model)
            # A model nobody serves.
            status, _, body = completion(entry, "no-such-model")
            self.assertEqual(status, 404)
            self.assertEqual(body["error"]["code"], "model_not_found")
        # Native routes too, through a node without the model.
        status, headers, body = http("POST", nodes[0].url + "/generate",
                                     {"prompt": "Hi", "max_tokens": 4, "model": "model-b"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["node_id"], "n3")

    def test_embeddings_and_generation_each_go_to_a_node_offering_them(self):
        # n1: model-a, no embeddings; n2: model-a, embeddings only; n3: model-b, both.
        boot = self.h.node("n1", self.model_a, extra=["--embeddings=off"]).start()
        n2 = self.h.node("n2", self.model_a, bootstrap=[boot.dht_address], extra=["--embeddings-only"]).start()
        n3 = self.h.node("n3", self.model_b, bootstrap=[boot.dht_address]).start()
        nodes = [boot, n2, n3]
        ok = wait_until(lambda: all(n.node_ids() == {"n1", "n2", "n3"} for n in nodes), timeout=20)
        self.assertTrue(ok, [sorted(n.node_ids()) for n in nodes])
        for entry in nodes:
            for model, server in (("model-a", "n2"), ("model-b", "n3")):
                status, headers, body = http("POST", entry.url + "/v1/embeddings",
                                             {"model": model, "input": ["forwarded", "twice"]})
                self.assertEqual(status, 200, "%s asked %s: %s" % (model, entry.name, body))
                self.assertEqual(served_by(headers), server, "%s asked %s" % (model, entry.name))
                self.assertEqual(body["model"], model)
                self.assertEqual(len(body["data"]), 2)
            status, _, body = http("POST", entry.url + "/v1/embeddings", {"model": "no-such-model", "input": "x"})
            self.assertEqual(status, 404, body)
            self.assertEqual(body["error"]["code"], "model_not_found")
            # Generation of model-a never lands on the embeddings-only node.
            status, headers, body = completion(entry, "model-a")
            self.assertEqual(status, 200, body)
            self.assertEqual(served_by(headers), "n1", entry.name)
        status, _, body = http("GET", boot.url + "/nodes")
        records = {n["node_id"]: n for n in body["nodes"]}
        self.assertEqual((records["n1"]["generation"], records["n1"]["embeddings"]), (True, False))
        self.assertEqual((records["n2"]["generation"], records["n2"]["embeddings"]), (False, True))
        self.assertEqual((records["n3"]["generation"], records["n3"]["embeddings"]), (True, True))

    def test_nodes_started_in_any_order_find_each_other(self):
        boot = self.h.node("n1", self.model_a)
        # The joiners start first; their bootstrap node is not up yet and is retried. Until it
        # starts, a silent socket holds its DHT port and shows that each joiner has tried it.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind(("127.0.0.1", boot.dht_port))
            n2 = self.h.node("n2", self.model_a, bootstrap=[boot.dht_address]).start()
            n3 = self.h.node("n3", self.model_b, bootstrap=[boot.dht_address]).start()
            tried = datagram_sources(silent, {n2.dht_port, n3.dht_port}, timeout=10)
        self.assertEqual(tried, {n2.dht_port, n3.dht_port}, "the joiners never tried their bootstrap node")
        boot.start()
        everyone = {"n1", "n2", "n3"}
        ok = wait_until(lambda: all(n.node_ids() == everyone for n in (boot, n2, n3)), timeout=30)
        self.assertTrue(ok, [sorted(n.node_ids()) for n in (boot, n2, n3)])

    def test_kill9_loses_no_request_that_had_not_started_on_the_dead_node(self):
        boot, n2, n3 = self.three_nodes(second_b=True)   # model-b on n2 and n3
        results = []
        lock = threading.Lock()

        def one_request(i):
            started = False
            try:
                req = urllib.request.Request(
                    boot.url + "/v1/completions", method="POST",
                    data=json.dumps({"model": "model-b", "prompt": "Burst %d" % i, "max_tokens": 24,
                                     "temperature": 0, "stream": True}).encode(),
                    headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=60) as r:
                    node = r.headers.get("X-LlamaNet-Node")
                    text = b""
                    while True:
                        chunk = r.read1(4096) if hasattr(r, "read1") else r.read(4096)
                        if not chunk:
                            break
                        started = True
                        text += chunk
                    ok = r.status == 200 and b"data: [DONE]" in text
                    with lock:
                        results.append((ok, started, node))
            except Exception as e:  # noqa: BLE001 - any failure is a result to judge
                with lock:
                    results.append((False, started, repr(e)))

        threads = []
        deadline = time.time() + 20
        for i in range(40):
            t = threading.Thread(target=one_request, args=(i,))
            t.start()
            threads.append(t)
            if i == 15:
                n2.kill9()
                killed_at = time.time()
            time.sleep(0.05)
            if time.time() > deadline:
                break
        for t in threads:
            t.join(timeout=90)
        lost = [r for r in results if not r[0] and not r[1]]
        self.assertEqual(lost, [], "requests lost before their first byte: %s" % lost)
        self.assertGreaterEqual(len(results), 30)
        gone = wait_until(lambda: "n2" not in boot.node_ids(), timeout=3 * HEARTBEAT + 2)
        self.assertTrue(gone, "n2 still listed %.1f s after kill -9" % (time.time() - killed_at))
        # And no more requests go to it.
        for _ in range(6):
            status, headers, _ = completion(boot, "model-b")
            self.assertEqual(status, 200)
            self.assertEqual(served_by(headers), "n3")

    def test_a_frozen_peer_holds_no_request_and_is_used_again_once_it_answers(self):
        # Heartbeats of 10 s: the frozen node's record stays in every view, so only the proxy's
        # deadlines and liveness probes keep requests off it.
        boot = self.h.node("n1", self.model_a, heartbeat=10).start()
        n2 = self.h.node("n2", self.model_b, heartbeat=10, bootstrap=[boot.dht_address]).start()
        self.assertTrue(wait_until(lambda: boot.node_ids() == {"n1", "n2"}, timeout=30))
        # n2 serves first (so n1 has verified it) and publishes a speed, so that n1 ranks it
        # before n3, which has served nothing yet.
        status, headers, _ = completion(boot, "model-b")
        self.assertEqual((status, served_by(headers)), (200, "n2"))

        def n2_tps():
            status, _, body = http("GET", boot.url + "/nodes", timeout=5)
            return status == 200 and any(n["node_id"] == "n2" and n["tps"] > 0 for n in body["nodes"])

        # Within two heartbeats (the speed is published with the next record).
        self.assertTrue(wait_until(n2_tps, timeout=25), "n2's speed never reached n1's view")
        n3 = self.h.node("n3", self.model_b, heartbeat=10, bootstrap=[boot.dht_address]).start()
        self.assertTrue(wait_until(lambda: boot.node_ids() == {"n1", "n2", "n3"}, timeout=30))

        n2.freeze()
        try:
            results = []
            lock = threading.Lock()

            def worker(k):
                for i in range(6):
                    t0 = time.time()
                    status, headers, _ = completion(boot, "model-b", timeout=30)
                    with lock:
                        results.append((status, served_by(headers), time.time() - t0))

            threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
        finally:
            n2.thaw()
        slowest = max(r[2] for r in results)
        print("\n24 requests with n2 frozen: slowest %.2f s, served by %s"
              % (slowest, sorted({r[1] for r in results})), file=sys.stderr)
        self.assertEqual(len(results), 24)
        self.assertEqual([r for r in results if r[0] != 200 or r[1] != "n3"], [])
        self.assertLess(slowest, 5.0, "a request waited on the frozen peer")
        self.assertTrue(boot.log_contains("peer n2 at 127.0.0.1:%d failed (no answer, and none to a liveness probe)"
                                          % n2.port), "no request went to the frozen n2: nothing tested")
        # Thawed, n2 proves itself to n1's recheck and may be chosen again.
        self.assertTrue(wait_until(lambda: boot.log_contains("peer n2 at 127.0.0.1:%d answers again" % n2.port),
                                   timeout=5), boot.read_log())

    def test_nodes_with_an_api_key_route_to_each_other_only_with_a_swarm_secret(self):
        key = {"Authorization": "Bearer client-key"}
        for secret, expect in (("swarm-secret", 200), (None, 503)):
            extra = ["--swarm-secret", secret] if secret else []
            n1 = self.h.node("k1", self.model_a, extra=extra, api_key="client-key").start()
            n2 = self.h.node("k2", self.model_b, extra=extra, api_key="client-key",
                             bootstrap=[n1.dht_address]).start()
            self.assertTrue(wait_until(lambda: n1.node_ids() == {"k1", "k2"}, timeout=20))
            status, headers, body = http("POST", n1.url + "/v1/completions",
                                         {"model": "model-b", "prompt": "Hi", "max_tokens": 4}, headers=key)
            self.assertEqual(status, expect, body)
            if expect == 200:
                self.assertEqual(served_by(headers), "k2")
            else:  # k2 refused the forwarded request: the client's key stayed with k1
                self.assertIn("401", n1.read_log())
            n1.stop()
            n2.stop()

    def test_a_node_that_fills_its_last_slot_tells_the_nodes_routing_to_it_before_its_next_heartbeat(self):
        # Heartbeats of 10 s: only the push of a load change to the nodes that poll it (those
        # that hold it as a candidate of its model) can tell a peer in time.
        slow = ["--parallel", "1", "--n-ctx", "8192"]
        busy = self.h.node("busy", self.model_a, heartbeat=10, extra=slow).start()
        watcher = self.h.node("watcher", self.model_b, heartbeat=10, bootstrap=[busy.dht_address]).start()
        self.assertTrue(wait_until(lambda: watcher.node_ids() == {"busy", "watcher"}, timeout=20))

        def free_slots_seen():
            status, _, body = http("GET", watcher.url + "/nodes", timeout=5)
            if status != 200:
                return None
            return {n["node_id"]: n["free_slots"] for n in body["nodes"]}.get("busy")

        # The watcher routes a request for model-a: from now on it holds busy as a candidate.
        status, headers, body = completion(watcher, "model-a")
        self.assertEqual((status, served_by(headers)), (200, "busy"), body)
        self.assertTrue(wait_until(lambda: free_slots_seen() == 1, timeout=5, interval=0.05))
        # A long stream holds the only slot; closing its connection gives the slot back. It names
        # its model: for "any model", conversation placement may send it to the watcher, whose
        # 512-token context refuses max_tokens 8000.
        conn = HTTPConnection("127.0.0.1", busy.port, timeout=60)
        conn.request("POST", "/v1/completions",
                     json.dumps({"model": "model-a", "prompt": "Hold", "max_tokens": 8000, "ignore_eos": True,
                                 "stream": True}),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        resp.read1(1)
        started = time.time()
        seen_full = wait_until(lambda: free_slots_seen() == 0, timeout=4, interval=0.05)
        took = time.time() - started
        conn.close()
        self.assertTrue(seen_full, "the peer never saw the last slot fill")
        self.assertLess(took, 4)
        self.assertTrue(wait_until(lambda: free_slots_seen() == 1, timeout=4, interval=0.05),
                        "the peer never saw the slot free up again")

    def test_graceful_stop_leaves_within_one_heartbeat_and_restart_replaces_the_record(self):
        boot, n2, n3 = self.three_nodes()
        self.assertEqual(n3.stop(), 0)
        stopped_at = time.time()
        gone = wait_until(lambda: "n3" not in boot.node_ids() and "n3" not in n2.node_ids(), timeout=HEARTBEAT + 1)
        self.assertTrue(gone, "n3 still listed %.1f s after SIGTERM" % (time.time() - stopped_at))
        status, _, body = completion(boot, "model-b")
        self.assertEqual(status, 404, body)

        n3.start()   # same node id and key file: the same identity
        back = wait_until(lambda: "n3" in boot.node_ids(), timeout=10)
        self.assertTrue(back)
        status, _, body = http("GET", boot.url + "/nodes")
        n3_records = [n for n in body["nodes"] if n["node_id"] == "n3"]
        self.assertEqual(len(n3_records), 1)
        self.assertLess(n3_records[0]["uptime"], 30)
        status, headers, _ = completion(boot, "model-b")
        self.assertEqual(status, 200)
        self.assertEqual(served_by(headers), "n3")


if __name__ == "__main__":
    ARGS = sys.argv[1:4]
    unittest.main(argv=[sys.argv[0]] + sys.argv[4:], verbosity=2)
