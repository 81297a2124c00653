"""Rogue-peer attacks against real llamanet-node processes on 127.0.0.1 (issue 9, item 8).

Usage: rogue_peer_test.py NODE_BIN MKMODEL_BIN TINY_MODEL
Three nodes (n1, n2 serve model-a; n3 serves model-b; heartbeat 1 s) face one attack after
another; then pairs of nodes with --api-key check that a client's key is never forwarded.
Each check prints one PASS/FAIL line with what was measured; the last line is
"N passed, N failed"; the exit code is 1 when any check failed. Runtime is bounded (< 3 min).
"""
import json
import os
import socket
import sys
import threading
import time

from rogue_tools import (LOOPBACK, DhtSocket, Report, TcpRecorder, near_id, new_key, node_record, random_id,
                         sha1_hex, sign_record, udp_flood)
from swarm_harness import Harness, http, wait_until

HEARTBEAT = 1
CONVERGE_S = 15           # a fresh swarm, or one after an attack, must be right again within this
VIEW_RIGHT_S = 10         # after an attack ends, views are right again within this
AMPLIFICATION_MAX = 3.0   # reply bytes / request bytes for a source that proved nothing
SYBIL_DATAGRAMS = 3000    # junk pings/find_nodes from random ids and ports
SYBIL_MAX_CONTACTS = 256  # "bounded": not one entry per junk id
SYBIL_MAX_PER_OTHER_IP = 8  # "a few" routing entries for one IP that is not this node's
QUOTA_STORES = 300        # distinct keys one source tries to store
QUOTA_MAX_ACCEPTED = 256  # of those, at most this many may be accepted (a node's quota per source address)
STALL_S = 8
STALL_MAX_QUERIES_PER_S = 10  # find_value queries one node sends the staller, per second
FLOOD_S = 5
FLOOD_SOURCE = "127.0.0.3"
FLOOD_SOCKETS = 300
FLOOD_PER_S = 10000
FLOOD_VIEWS_RIGHT = 0.8  # share of view polls that must be right during the flood
BUDGET_S = 170            # attacks not begun by then are reported as failed (not run)
HTTP_SLOW_S = 2.0         # a node "keeps serving" when /health answers within this


def served_by(headers):
    return headers.get("X-LlamaNet-Node") or headers.get("x-llamanet-node")


def completion(node, model, headers=None, timeout=8, max_tokens=4):
    return http("POST", node.url + "/v1/completions",
                {"model": model, "prompt": "The secret prompt", "max_tokens": max_tokens, "temperature": 0},
                timeout=timeout, headers=headers)


def view(node, headers=None):
    """node_id -> record of the node's /nodes, or None when it did not answer."""
    status, _, body = http("GET", node.url + "/nodes", timeout=3, headers=headers)
    if status != 200 or not isinstance(body, dict):
        return None
    return {n.get("node_id"): n for n in body.get("nodes", [])}


def views_exact(nodes, expected, headers=None):
    for n in nodes:
        v = view(n, headers)
        if v is None or set(v) != expected:
            return False
    return True


def describe_views(nodes, headers=None):
    out = []
    for n in nodes:
        v = view(n, headers)
        out.append("%s:%s" % (n.name, "down" if v is None else ",".join(sorted(v))))
    return " ".join(out)


def health_latency(node):
    t = time.time()
    status, _, _ = http("GET", node.url + "/health", timeout=HTTP_SLOW_S + 3)
    return status, time.time() - t


def dht_addr(node):
    return (LOOPBACK, node.dht_port)


class Pump:
    """Calls `step` every `interval` seconds on a thread until stopped (bounded by `limit_s`)."""

    def __init__(self, step, interval=0.3, limit_s=30):
        self.step = step
        self.interval = interval
        self.limit = time.time() + limit_s
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set() and time.time() < self.limit:
            self.step()
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self.thread.join(timeout=10)


class RogueSuite:
    def __init__(self, argv, report):
        self.h = Harness(argv[1], argv[2], argv[3])
        self.report = report
        self.model_a = self.h.model("model-a", 11)
        self.model_b = self.h.model("model-b", 22)
        self.nodes = []

    # --- the shared swarm ---------------------------------------------------------------

    def start_swarm(self):
        n1 = self.h.node("n1", self.model_a).start()
        n2 = self.h.node("n2", self.model_a, bootstrap=[n1.dht_address]).start()
        n3 = self.h.node("n3", self.model_b, bootstrap=[n1.dht_address]).start()
        self.nodes = [n1, n2, n3]
        self.n1, self.n2, self.n3 = n1, n2, n3
        ok = wait_until(lambda: views_exact(self.nodes, self.ids()), CONVERGE_S, 0.2)
        self.report.check("setup: three nodes see each other", ok, describe_views(self.nodes))
        return ok

    def live(self):
        return [n for n in self.nodes if n.proc and n.proc.poll() is None]

    def ids(self):
        return {n.name for n in self.live()}

    def healthy(self, what):
        """Before an attack: the swarm is right again (else the attack's result means little)."""
        ok = wait_until(lambda: views_exact(self.live(), self.ids()), VIEW_RIGHT_S, 0.2)
        if not ok:
            self.report.check("precondition before %s: views right" % what, False, describe_views(self.live()))
        return ok

    def joined_peer(self, node_id, answer=None):
        """A DHT socket that every live node knows as a contact (it pinged them and answers)."""
        peer = DhtSocket(node_id=node_id, answer=answer)
        for n in self.live():
            peer.ping(dht_addr(n), timeout=1.0)
            peer.request(dht_addr(n), {"type": "find_node", "target_id": peer.node_id}, timeout=1.0)
        return peer

    # --- (g) amplification --------------------------------------------------------------

    def amplification(self):
        self.healthy("amplification")
        worst = (0, 0, 0.0, "")
        for n in self.live():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((LOOPBACK, 0))
            s.settimeout(0.2)
            req = json.dumps({"type": "find_value", "id": "a1b2c3d4", "sender_id": random_id(),
                              "key": "all_nodes"}).encode()
            s.sendto(req, dht_addr(n))
            got, deadline = 0, time.time() + 1.0
            while time.time() < deadline:
                try:
                    payload, _ = s.recvfrom(65536)
                except socket.timeout:
                    continue
                try:
                    if json.loads(payload).get("type") == "response":
                        got += len(payload)
                except (ValueError, AttributeError):
                    pass
            s.close()
            factor = got / len(req)
            if factor >= worst[2]:
                worst = (len(req), got, factor, n.name)
        self.report.check("g amplification (find_value all_nodes from an unproven source)",
                          worst[2] <= AMPLIFICATION_MAX,
                          "request %d B, reply %d B, factor %.1fx at %s (goal <= %.0fx)" %
                          (worst[0], worst[1], worst[2], worst[3], AMPLIFICATION_MAX))

    # --- (a) forged record pointing at a plain TCP service --------------------------------

    def forged_unsigned(self):
        self.healthy("forged record")
        listener = TcpRecorder()
        peer = DhtSocket()
        accepted = {"stored": 0, "refused": 0, "silent": 0}

        def store_all():
            record = node_record("rogue", listener.port, "evil", dht_port=peer.address[1])
            for n in self.live():
                for key in ("all_nodes", "model:evil", "node:rogue"):
                    for ro in (False, True):
                        data = peer.store(dht_addr(n), key, record, timeout=0.5, read_only=ro)
                        accepted["silent" if data is None else "stored" if data.get("stored") else "refused"] += 1

        pump = Pump(store_all, 0.4, limit_s=20)
        seen = wait_until(lambda: any("rogue" in (view(n) or {}) for n in self.live()), 4, 0.2)
        results = []
        for n in self.live():
            for route, body in (("/v1/completions", {"model": "evil", "prompt": "secret prompt", "max_tokens": 4}),
                                ("/generate", {"model": "evil", "prompt": "secret prompt", "max_tokens": 4})):
                status, _, resp = http("POST", n.url + route, body, timeout=8,
                                       headers={"Authorization": "Bearer secret"})
                results.append((n.name, route, status, resp))
        pump.stop()
        time.sleep(0.3)  # a forward already on its way still lands in the listener
        leaked = listener.forwarded()
        clean = all(status not in (0, 200) and isinstance(resp, dict) for _, _, status, resp in results)
        codes = " ".join("%s%s=%d" % (name, route, status) for name, route, status, _ in results)
        not_found = sum(1 for *_, resp in results if isinstance(resp, dict) and
                        isinstance(resp.get("error"), dict) and resp["error"].get("code") == "model_not_found")
        self.report.check("a forged unsigned record -> plain TCP service: nothing forwarded",
                          not leaked,
                          "listener got: %s; stores %s; rogue in a view: %s" %
                          (listener.summary(), accepted, seen))
        self.report.check("a forged unsigned record -> client gets a clean error", clean,
                          "%s (%d model_not_found)" % (codes, not_found))
        listener.close()
        peer.close()

    # --- (b) id takeover ------------------------------------------------------------------

    def id_takeover(self):
        self.healthy("id takeover")
        victim = self.n3
        listener = TcpRecorder()
        attacker = new_key()
        state = {"n": 0}

        def forged(signed):
            rec = node_record(victim.name, listener.port, "model-b", last_seen=time.time() + 2, dht_port=0)
            return sign_record(rec, attacker) if signed else rec

        def answer(msg, src):
            kind = msg.get("type")
            if kind == "ping":
                return {"pong": True, "sender_id": peer.node_id}
            if kind == "find_value":
                state["n"] += 1
                rec = forged(state["n"] % 2 == 0)
                if msg.get("key") == "node:" + victim.name:
                    return {"value": rec, "contacts": []}
                return {"value": [rec], "contacts": []}
            return {"contacts": []}

        peer = self.joined_peer(near_id(sha1_hex("all_nodes")), answer)
        stores = {"signed": 0, "unsigned": 0}

        def store_all():
            for signed in (True, False):
                rec = forged(signed)
                for n in self.live():
                    for key in ("all_nodes", "model:model-b", "node:" + victim.name):
                        data = peer.store(dht_addr(n), key, rec, timeout=0.5)
                        if data and data.get("stored"):
                            stores["signed" if signed else "unsigned"] += 1

        pump = Pump(store_all, 0.3, limit_s=20)
        addresses, missing, requests = set(), 0, []
        end = time.time() + 5
        while time.time() < end:
            for n in (self.n1, self.n2):
                v = view(n) or {}
                if victim.name in v:
                    addresses.add("%s:%s" % (v[victim.name].get("ip"), v[victim.name].get("port")))
                else:
                    missing += 1
                status, headers, body = completion(n, "model-b")
                real_answer = isinstance(body, dict) and isinstance(body.get("choices"), list)
                requests.append((n.name, status if real_answer else -status, served_by(headers)))
            time.sleep(0.2)
        pump.stop()
        time.sleep(0.3)
        real = "127.0.0.1:%d" % victim.port
        ok_requests = sum(1 for _, status, by in requests if status == 200 and by == victim.name)
        self.report.check("b id takeover (attacker-signed and unsigned records claiming n3)",
                          addresses == {real} and missing == 0 and ok_requests == len(requests)
                          and not listener.forwarded(),
                          "n3 shown at %s (real %s), missing %d polls; %d/%d requests served by n3; "
                          "forged stores accepted %s; staller answered %d find_value; listener got: %s" %
                          (sorted(addresses), real, missing, ok_requests, len(requests), stores, state["n"],
                           listener.summary()))
        listener.close()
        peer.close()

    # --- (c) future-dated and replayed records --------------------------------------------

    def future_dated(self):
        self.healthy("future-dated records")
        attacker = new_key()
        signed_id = attacker.public_hex[:16]
        future = time.time() + 3600
        unsigned = node_record("future-u", 9, "future", last_seen=future)
        signed = sign_record(node_record(signed_id, 9, "future", last_seen=future), attacker)

        def answer(msg, src):
            if msg.get("type") == "ping":
                return {"pong": True, "sender_id": peer.node_id}
            if msg.get("type") == "find_value" and msg.get("key") in ("all_nodes", "model:future"):
                return {"value": [unsigned, signed], "contacts": []}
            return {"contacts": []}

        peer = self.joined_peer(near_id(sha1_hex("all_nodes")), answer)
        replies = []
        for n in self.live():
            for key in ("all_nodes", "model:future"):
                for rec in (unsigned, signed):
                    data = peer.store(dht_addr(n), key, rec, timeout=1.0)
                    replies.append(None if data is None else bool(data.get("stored")))
        shown = set()
        end = time.time() + 3
        while time.time() < end:
            for n in self.live():
                shown |= set(view(n) or {}) & {"future-u", signed_id}
            time.sleep(0.2)
        peer.close()
        self.report.check("c future-dated records (last_seen +1 h, unsigned and signed) refused",
                          not shown and True not in replies,
                          "stores accepted %d/%d; shown in /nodes: %s" %
                          (replies.count(True), len(replies), sorted(shown) or "never"))

    def capture(self, node_id):
        peer = DhtSocket()
        data = peer.find_value(dht_addr(self.n1), "node:" + node_id, prove=True)
        peer.close()
        value = (data or {}).get("value")
        return value if isinstance(value, dict) else None

    def replay_older(self):
        self.healthy("replay")
        old = self.capture("n2")
        if old is None:
            self.report.check("c replay of an older record of a live node", False, "could not read node:n2 from n1")
            return
        # Both n1's copy of node:n2 and the views (all_nodes is published every other heartbeat)
        # hold a newer record than the one to replay.
        wait_until(lambda: (self.capture("n2") or {}).get("last_seen", 0) > old["last_seen"] + 1.5 and
                   all((view(n) or {}).get("n2", {}).get("last_seen", 0) > old["last_seen"] for n in (self.n1, self.n3)),
                   8, 0.2)
        peer = DhtSocket()
        replies = [peer.store(dht_addr(n), key, old, timeout=1.0)
                   for n in (self.n1, self.n3) for key in ("all_nodes", "node:n2")]
        peer.close()
        now_seen = [(view(n) or {}).get("n2", {}).get("last_seen", 0) for n in (self.n1, self.n3)]
        accepted = sum(1 for d in replies if d and d.get("stored"))
        self.report.check("c replay of an older record of a live node refused",
                          accepted == 0 and all(s > old["last_seen"] for s in now_seen),
                          "stores accepted %d/%d; views' n2 last_seen %s vs replayed %.1f" %
                          (accepted, len(replies), ["%.1f" % s for s in now_seen], old["last_seen"]))

    def replay_after_leave(self):
        """n2 leaves (SIGTERM: a tombstone); its last live record is replayed by stores, at once
        (the tombstone must refuse it) and after it expired (stores and a responder)."""
        self.healthy("replay after leave")
        old = self.capture("n2")
        if old is None:
            self.report.check("c replay after leave", False, "could not read node:n2 from n1")
            return
        self.n2.stop()
        others = [self.n1, self.n3]
        peer = DhtSocket()
        replies = []

        def replay():
            for n in others:
                for key in ("all_nodes", "model:model-a", "node:n2"):
                    replies.append(peer.store(dht_addr(n), key, old, timeout=0.5))

        pump = Pump(replay, 0.3, limit_s=20)
        gone = wait_until(lambda: all("n2" not in (view(n) or {"n2": 1}) for n in others), 5, 0.2)
        back = 0
        end = time.time() + 2
        while time.time() < end:
            back += sum(1 for n in others if "n2" in (view(n) or {}))
            time.sleep(0.2)
        pump.stop()
        accepted = sum(1 for d in replies if d and d.get("stored"))
        self.report.check("c replay right after a graceful leave (tombstone) refused",
                          gone and back == 0 and accepted == 0,
                          "n2 left the views: %s; shown again in %d polls; replayed stores accepted %d/%d" %
                          (gone, back, accepted, len(replies)))

        # The record is now older than its lifetime: stores and lookup answers must both be ignored.
        wait_until(lambda: time.time() > old["last_seen"] + 3 * HEARTBEAT + 1.5, 6, 0.1)

        def answer(msg, src):
            if msg.get("type") == "ping":
                return {"pong": True, "sender_id": stale.node_id}
            if msg.get("type") == "find_value":
                return {"value": old if msg.get("key", "").startswith("node:") else [old], "contacts": []}
            return {"contacts": []}

        stale = self.joined_peer(near_id(sha1_hex("all_nodes")), answer)
        replies.clear()
        pump = Pump(replay, 0.3, limit_s=20)
        shown = 0
        end = time.time() + 3
        while time.time() < end:
            shown += sum(1 for n in others if "n2" in (view(n) or {}))
            time.sleep(0.2)
        pump.stop()
        accepted = sum(1 for d in replies if d and d.get("stored"))
        self.report.check("c replay of an expired record (stores and lookup answers) refused",
                          shown == 0 and accepted == 0,
                          "n2 shown in %d polls; stores accepted %d/%d; responder answered %d find_value" %
                          (shown, accepted, len(replies), stale.count("find_value")))
        stale.close()
        peer.close()

    # --- (d) the paging stall -------------------------------------------------------------

    def paging_stall(self):
        self.healthy("paging stall")
        reader = DhtSocket()
        page = (reader.find_value(dht_addr(self.n1), "all_nodes") or {}).get("value") or []
        reader.close()

        def answer(msg, src):
            if msg.get("type") == "ping":
                return {"pong": True, "sender_id": staller.node_id}
            if msg.get("type") == "find_value":
                return {"value": page[:1], "offset": 0, "truncated": True, "total": 1000, "contacts": []}
            return {"contacts": []}

        staller = self.joined_peer(near_id(sha1_hex("all_nodes")), answer)
        start = time.time()
        polls = right = 0
        slowest = 0.0
        while time.time() < start + STALL_S:
            for n in self.live():
                t = time.time()
                v = view(n)
                slowest = max(slowest, time.time() - t)
                polls += 1
                right += v is not None and self.ids() <= set(v)
            time.sleep(0.3)
        elapsed = time.time() - start
        per_source = {}
        with staller.lock:
            for t, kind, src, msg in staller.queries:
                if kind == "find_value" and t >= start:
                    per_source[src[1]] = per_source.get(src[1], 0) + 1
        pinger = DhtSocket()
        pongs = sum(1 for n in self.live() if pinger.ping(dht_addr(n), timeout=2.0))
        pinger.close()
        staller.close()
        rate = max(per_source.values() or [0]) / elapsed
        offsets = sorted({m.get("offset", 0) for _, k, _, m in staller.queries if k == "find_value"})
        self.report.check("d paging stall: views stay right and lookups end",
                          right >= 0.9 * polls and slowest < HTTP_SLOW_S and pongs == len(self.live())
                          and rate <= STALL_MAX_QUERIES_PER_S,
                          "views right %d/%d, slowest /nodes %.2f s, DHT pings answered %d/%d, "
                          "staller asked %.1f find_value/s by the busiest node (goal <= %d; offsets asked %s)" %
                          (right, polls, slowest, pongs, len(self.live()), rate, STALL_MAX_QUERIES_PER_S,
                           offsets[:5] + (["..%d" % offsets[-1]] if len(offsets) > 5 else [])))

    # --- (e) junk contacts (Sybil) and a storage quota ------------------------------------

    def junk_from(self, host, count, target):
        sent = 0
        for i in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind((host, 0))
                msg = {"type": "ping" if i % 2 else "find_node", "id": os.urandom(4).hex(), "sender_id": random_id()}
                if msg["type"] == "find_node":
                    msg["target_id"] = random_id()
                s.sendto(json.dumps(msg).encode(), target)
                sent += 1
            finally:
                s.close()
            if i % 200 == 199:
                time.sleep(0.05)  # paced a little: a Sybil joins, it does not flood
        return sent

    def dht_status(self, node):
        status, _, body = http("GET", node.url + "/dht/status", timeout=5)
        return body if status == 200 and isinstance(body, dict) else None

    def sybil(self):
        self.healthy("Sybil")
        target = self.n1
        sent = self.junk_from(LOOPBACK, SYBIL_DATAGRAMS, dht_addr(target))
        time.sleep(1.0)
        st = self.dht_status(target) or {}
        count = st.get("contacts_count", -1)
        real_ports = {n.dht_port for n in self.live() if n is not target}
        kept = real_ports <= {c.get("port") for c in st.get("contacts", [])}
        status, latency = health_latency(target)
        right = wait_until(lambda: views_exact(self.live(), self.ids()), VIEW_RIGHT_S, 0.2)
        self.report.check("e Sybil from 127.0.0.1 (random ids and ports): routing table bounded, node serves",
                          0 <= count <= SYBIL_MAX_CONTACTS and kept and status == 200 and latency < HTTP_SLOW_S
                          and right,
                          "%d junk datagrams -> contacts_count %d (bound %d); real peers kept %s; /health %d in "
                          "%.2f s; views right %s" % (sent, count, SYBIL_MAX_CONTACTS, kept, status, latency, right))
        try:
            sent = self.junk_from("127.0.0.2", SYBIL_DATAGRAMS // 3, dht_addr(target))
        except OSError as e:
            self.report.check("e Sybil from one other IP (127.0.0.2)", False, "cannot bind 127.0.0.2: %s" % e)
            return
        time.sleep(1.0)
        st = self.dht_status(target) or {}
        from_other = sum(1 for c in st.get("contacts", []) if c.get("ip") == "127.0.0.2")
        self.report.check("e Sybil from one other IP (127.0.0.2): a few routing entries per IP",
                          from_other <= SYBIL_MAX_PER_OTHER_IP,
                          "%d junk datagrams -> %d contacts at 127.0.0.2 (goal <= %d), contacts_count %s" %
                          (sent, from_other, SYBIL_MAX_PER_OTHER_IP, st.get("contacts_count")))

    def storage_quota(self):
        self.healthy("storage quota")
        target = self.n1
        peer = DhtSocket()
        accepted = 0
        for start in range(0, QUOTA_STORES, 50):
            msgs = [{"type": "store", "key": "junk:%d" % i,
                     "value": node_record("junk%d" % i, 9, "junk")} for i in range(start, start + 50)]
            accepted += sum(1 for r in peer.request_many(dht_addr(target), msgs, timeout=1.0)
                            if isinstance(r.get("data"), dict) and r["data"].get("stored"))
            time.sleep(0.3)  # under the per-source rate: the quota, not the rate limit, must refuse
        peer.close()
        keys = len((self.dht_status(target) or {}).get("storage_keys", []))
        self.report.check("e storage quota per source", accepted <= QUOTA_MAX_ACCEPTED,
                          "one source stored %d/%d distinct keys (goal <= %d); node holds %d keys" %
                          (accepted, QUOTA_STORES, QUOTA_MAX_ACCEPTED, keys))

    # --- (f) spoofed-port flood -----------------------------------------------------------

    def flood(self):
        self.healthy("flood")
        target = self.n1
        stop = threading.Event()
        sent = [0]

        # Spoofed ports from one other host (127.0.0.3): a node limits DHT traffic per source
        # address, so the flood must not starve the real peers on 127.0.0.1 nor 127.0.0.2.
        def flooder():
            sent[0] = udp_flood(dht_addr(target), FLOOD_S, FLOOD_SOCKETS, FLOOD_PER_S, stop, source=FLOOD_SOURCE)

        other_ip = None
        try:
            other_ip = DhtSocket(host="127.0.0.2")
        except OSError:
            pass
        thread = threading.Thread(target=flooder, daemon=True)
        start = time.time()
        thread.start()
        health, completions, pings, view_polls = [], [], [], []
        while thread.is_alive() and time.time() < start + FLOOD_S + 2:
            health.append(health_latency(target))
            status, _, _ = completion(target, "model-a")
            completions.append(status)
            if other_ip:
                # One resend, as the nodes' own RPCs do.
                pings.append(other_ip.ping(dht_addr(target), timeout=1.0) or
                             other_ip.ping(dht_addr(target), timeout=1.0))
            view_polls.append(views_exact(self.live(), self.ids()))
        stop.set()
        thread.join(timeout=5)
        flood_s = time.time() - start
        t_end = time.time()
        right = wait_until(lambda: views_exact(self.live(), self.ids()), VIEW_RIGHT_S, 0.2)
        settle = time.time() - t_end
        if other_ip:
            other_ip.close()
        alive = target.proc.poll() is None
        slow = max([lat for _, lat in health] or [0])
        ok_health = all(s == 200 for s, _ in health) and slow < HTTP_SLOW_S
        self.report.check("f spoofed-port flood: node keeps serving HTTP",
                          alive and ok_health and all(s == 200 for s in completions),
                          "%d datagrams from %d ports in %.1f s; /health ok %d/%d (slowest %.2f s); "
                          "completions ok %d/%d" % (sent[0], FLOOD_SOCKETS, flood_s,
                                                    sum(1 for s, _ in health if s == 200), len(health), slow,
                                                    completions.count(200), len(completions)))
        self.report.check("f spoofed-port flood: DHT keeps serving the real peers (views right during it)",
                          sum(view_polls) >= FLOOD_VIEWS_RIGHT * len(view_polls) and right,
                          "views right in %d/%d polls during the flood (goal >= %.0f%%); right again %.1f s "
                          "after: %s" %
                          (sum(view_polls), len(view_polls), 100 * FLOOD_VIEWS_RIGHT, settle, right))
        self.report.check("f spoofed-port flood: DHT answers another host (127.0.0.2) during it",
                          other_ip is not None and pings and all(pings),
                          "pings answered %d/%d (one resend each)" % (sum(pings), len(pings))
                          if other_ip else "cannot bind 127.0.0.2")

    # --- (h) the client's key is never forwarded ------------------------------------------

    def authorization(self):
        for n in self.nodes:
            n.stop()
        key = "client-key-123"
        auth = {"Authorization": "Bearer " + key}
        for phase, extra in (("no swarm secret", []), ("shared swarm secret", ["--swarm-secret", "s3cret-swarm"])):
            a = self.h.node("a-" + phase[:2], self.model_a, extra=["--api-key", key] + extra).start()
            b = self.h.node("b-" + phase[:2], self.model_b, bootstrap=[a.dht_address],
                            extra=["--api-key", key] + extra).start()
            pair = [a, b]
            joined = wait_until(lambda: views_exact(pair, {a.name, b.name}, auth), CONVERGE_S, 0.2)
            status, headers, body = completion(a, "model-b", headers=auth)
            by = served_by(headers)
            if not joined:
                self.report.check("h setup (%s): the pair sees each other" % phase, False, describe_views(pair, auth))
            elif phase == "no swarm secret":
                self.report.check("h Authorization not forwarded: A's client key does not authorize at B",
                                  status not in (0, 200),
                                  "through A for B's model with A's key: HTTP %d served by %s %s" %
                                  (status, by, json.dumps(body)[:120] if status != 200 else ""))
            else:
                self.report.check("h shared --swarm-secret: forwarding works under --api-key",
                                  status == 200 and by == b.name,
                                  "through A for B's model: HTTP %d served by %s" % (status, by))
            for n in pair:
                n.stop()

    def close(self):
        self.h.close()


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    for path in argv[1:4]:
        if not os.path.exists(path):
            print("FAIL setup: %s does not exist" % path)
            return 1
    report = Report()
    started = time.time()
    suite = RogueSuite(argv, report)
    try:
        if suite.start_swarm():
            for attack in (suite.amplification, suite.forged_unsigned, suite.id_takeover, suite.future_dated,
                           suite.replay_older, suite.paging_stall, suite.sybil, suite.storage_quota,
                           suite.flood, suite.replay_after_leave):
                if time.time() - started > BUDGET_S:
                    report.check(attack.__name__, False, "not run: the %d s budget is spent" % BUDGET_S)
                    continue
                try:
                    attack()
                except Exception as e:  # one broken attack must not hide the others' results
                    report.check(attack.__name__, False, "test error: %r" % e)
        suite.authorization()
    finally:
        suite.close()
    print("runtime %.0f s" % (time.time() - started))
    return report.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
