"""Tools for playing a hostile peer against real llamanet-node processes on 127.0.0.1.

- DhtSocket: one UDP socket that speaks PROTOCOL.md section 3, sends requests and answers the
  nodes' own queries with replies the test chooses (a rogue responder), counting what it got.
- TcpRecorder: a plain TCP service (not a LlamaNet node) that records every request it gets.
- sign_record / unsigned_record: node records, forged or signed with a test key.
- Report: one PASS/FAIL line per check and the totals.
Every socket here binds a loopback address; every wait is bounded.
"""
import hashlib
import json
import os
import socket
import threading
import time

from ed25519 import SigningKey

LOOPBACK = "127.0.0.1"


def canonical_json(value):
    """The node's canonical form (nlohmann dump with sorted keys, no whitespace) for the plain
    values these tests use: ASCII strings, ints and floats."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha1_hex(text):
    return hashlib.sha1(text.encode()).hexdigest()


def random_id(digits=40):
    return os.urandom(digits // 2).hex()


def near_id(target_hex):
    """An id that differs from `target_hex` only in its last bits: the closest a peer can get to
    a key's routing target, so that lookups for that key ask it first."""
    return target_hex[:-4] + os.urandom(2).hex()


def node_record(node_id, port, model, last_seen=None, dht_port=0, ip=LOOPBACK):
    """A record that looks like an idle, fast node (what a router prefers)."""
    return {"node_id": node_id, "ip": ip, "port": port, "model": model, "load": 0, "tps": 1000.0,
            "uptime": 100, "last_seen": round(time.time() if last_seen is None else last_seen, 3),
            "dht_port": dht_port, "slots": 4, "free_slots": 4, "queue": 0, "n_ctx": 512,
            "version": "0.1.0", "openai_compatible": True}


def sign_record(record, key):
    """`record` with `pubkey` and `sig` (Ed25519 over its canonical JSON without `sig`)."""
    signed = dict(record)
    signed.pop("sig", None)
    signed["pubkey"] = key.public_hex
    signed["sig"] = key.sign(canonical_json(signed).encode()).hex()
    return signed


def new_key():
    return SigningKey()


class DhtSocket:
    """A UDP DHT peer on `host`. Requests wait for their reply (matched on id and source);
    incoming queries are answered by `answer(msg, src)` (a dict for `data`, or None to stay
    silent). Counts every query it receives by type and source."""

    def __init__(self, node_id=None, host=LOOPBACK, answer=None):
        self.node_id = node_id or random_id()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.05)
        self.address = self.sock.getsockname()
        self.answer = answer or self.default_answer
        self.lock = threading.Lock()
        self.pending = {}  # txid -> [event, reply, expected source]
        self.queries = []  # (time, type, source, message)
        self.bytes_in = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def default_answer(self, msg, src):
        kind = msg.get("type")
        if kind == "ping":
            return {"pong": True, "sender_id": self.node_id}
        if kind == "store":
            return {"stored": True}
        return {"contacts": []}

    def _loop(self):
        while not self._stop.is_set():
            try:
                payload, src = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                msg = json.loads(payload)
            except ValueError:
                continue
            if not isinstance(msg, dict):
                continue
            with self.lock:
                self.bytes_in += len(payload)
                if msg.get("type") == "response":
                    slot = self.pending.get(msg.get("id"))
                    if slot and slot[2] == src:
                        slot[1] = (msg, len(payload))
                        slot[0].set()
                    continue
                self.queries.append((time.time(), msg.get("type"), src, msg))
            data = self.answer(msg, src)
            if data is not None and "id" in msg:
                self.send_raw(src, {"type": "response", "id": msg["id"], "sender_id": self.node_id, "data": data})

    def send_raw(self, addr, msg):
        payload = msg if isinstance(msg, bytes) else json.dumps(msg).encode()
        try:
            self.sock.sendto(payload, addr)
        except OSError:
            pass
        return len(payload)

    def request(self, addr, msg, timeout=2.0):
        """Sends `msg` (type and fields) and returns (reply dict, reply bytes), or (None, 0)."""
        txid = os.urandom(6).hex()
        full = dict(msg, id=txid, sender_id=self.node_id)
        event = threading.Event()
        with self.lock:
            self.pending[txid] = [event, None, addr]
        self.send_raw(addr, full)
        event.wait(timeout)
        with self.lock:
            reply = self.pending.pop(txid)[1]
        return reply if reply else (None, 0)

    def request_many(self, addr, msgs, timeout=2.0):
        """Sends all of `msgs` at once; returns the replies that came within `timeout`."""
        events = []
        for msg in msgs:
            txid = os.urandom(6).hex()
            event = threading.Event()
            with self.lock:
                self.pending[txid] = [event, None, addr]
            events.append((txid, event))
            self.send_raw(addr, dict(msg, id=txid, sender_id=self.node_id))
        deadline = time.time() + timeout
        replies = []
        for txid, event in events:
            event.wait(max(0.0, deadline - time.time()))
            with self.lock:
                reply = self.pending.pop(txid)[1]
            if reply:
                replies.append(reply[0])
        return replies

    def store(self, addr, key, value, timeout=2.0, read_only=False):
        msg = {"type": "store", "key": key, "value": value}
        if read_only:
            msg["ro"] = True
        reply, _ = self.request(addr, msg, timeout)
        return None if reply is None else reply.get("data")

    def find_value(self, addr, key, timeout=2.0):
        reply, _ = self.request(addr, {"type": "find_value", "key": key}, timeout)
        return None if reply is None else reply.get("data")

    def ping(self, addr, timeout=2.0):
        reply, _ = self.request(addr, {"type": "ping"}, timeout)
        return reply is not None

    def count(self, kind=None, since=0.0):
        with self.lock:
            return sum(1 for t, k, _, _ in self.queries if t >= since and (kind is None or k == kind))

    def close(self):
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=2)


class TcpRecorder:
    """A plain TCP service on 127.0.0.1 that is not a LlamaNet node: it answers every request
    with `200 {"ok":true}`, like any internal HTTP service, and records what it received."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.requests = []  # dicts: method, path, headers (lower-case names), body
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(1.0)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path = (lines[0].split(" ") + ["", ""])[:2]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            want = int(headers.get("content-length", "0") or 0)
            while len(body) < min(want, 1 << 20):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                body += chunk
            if data:
                with self.lock:
                    self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
                         b"Connection: close\r\n\r\n{\"ok\":true}")
        except OSError:
            pass
        finally:
            conn.close()

    def forwarded(self):
        """Requests that carry client data: anything but a body-less, key-less identity probe
        (GET /identity or GET /info)."""
        with self.lock:
            got = list(self.requests)
        probe_paths = ("/identity", "/info")
        return [r for r in got
                if not (r["method"] == "GET" and r["path"].split("?")[0] in probe_paths and not r["body"]
                        and "authorization" not in r["headers"])]

    def summary(self):
        """What came in, grouped: "3x POST /v1/completions +Authorization +86B body"."""
        with self.lock:
            got = list(self.requests)
        groups = {}
        for r in got:
            line = "%s %s%s%s" % (r["method"], r["path"].split("?")[0][:40],
                                  " +Authorization" if "authorization" in r["headers"] else "",
                                  " +%dB body" % len(r["body"]) if r["body"] else "")
            groups[line] = groups.get(line, 0) + 1
        return ", ".join("%dx %s" % (n, line) for line, n in groups.items()) or "nothing"

    def close(self):
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=2)


class Report:
    """Prints one line per check; `finish` prints the totals and returns the exit code."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail), flush=True)
        return ok

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 1 if self.failed else 0


def udp_flood(target, seconds, sockets, per_second, stop=None, source=LOOPBACK):
    """Sends junk and find_value datagrams to `target` from `sockets` source ports on `source`,
    `per_second` of them, for `seconds` (or until `stop` is set); returns how many went."""
    socks = []
    for _ in range(sockets):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((source, 0))
        s.setblocking(False)
        socks.append(s)
    junk = [b"\xff\xfe not json", b"{}", b'{"type":"nope"}', b"[" * 40]
    sent = i = 0
    begin = time.time()
    end = begin + seconds
    while (stop is None or not stop.is_set()) and time.time() < end:
        if sent > (time.time() - begin) * per_second:
            time.sleep(0.001)
            continue
        if i % 2:
            payload = json.dumps({"type": "find_value", "id": "%x" % i, "sender_id": random_id(),
                                  "key": "all_nodes"}).encode()
        else:
            payload = junk[i % len(junk)]
        try:
            socks[i % len(socks)].sendto(payload, target)
            sent += 1
        except OSError:
            pass
        i += 1
    for s in socks:
        s.close()
    return sent


def rss_kib(pid):
    """VmRSS of `pid` in KiB, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
