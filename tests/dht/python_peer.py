#!/usr/bin/env python3
"""A DHT peer in the style of the Python LlamaNet node (stdlib only), run against C++ nodes.

Usage: python_peer.py PORT_A PORT_B  (two C++ nodes on 127.0.0.1; B joined through A)
It speaks the datagrams of PROTOCOL.md section 3 with a 16-hex-digit id: pings A and reads
A's id from data.sender_id, bootstraps through A (find_node reaches B), stores an unsigned
record, reads it back, reads part of a large set (it never sends an address token, so it gets
small replies), and answers the C++ nodes' own queries meanwhile. Exit 0 on success.
"""
import json
import socket
import sys
import time
import uuid

MY_ID = "7f2d1ac9a4b5e6f0"  # 16 hex digits, like the Python nodes
HOST = "127.0.0.1"


def fail(why):
    print("python peer FAIL:", why, file=sys.stderr)
    sys.exit(1)


class Peer:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(0.1)
        self.store = {}

    def answer(self, msg, src):
        kind = msg.get("type")
        if kind == "ping":
            data = {"pong": True, "sender_id": MY_ID}
        elif kind == "store":
            self.store[msg["key"]] = msg["value"]
            data = {"stored": True}
        elif kind == "find_value" and msg.get("key") in self.store:
            data = {"value": self.store[msg["key"]]}
        else:
            data = {"contacts": []}
        reply = {"type": "response", "id": msg["id"], "sender_id": MY_ID, "data": data}
        self.sock.sendto(json.dumps(reply).encode(), src)

    def send_raw(self, addr, payload):
        self.sock.sendto(payload, addr)

    def request(self, addr, msg, timeout=5.0):
        msg = dict(msg, id=str(uuid.uuid4()), sender_id=MY_ID)
        self.sock.sendto(json.dumps(msg).encode(), addr)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                payload, src = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            reply = json.loads(payload)
            if reply.get("type") != "response":
                self.answer(reply, src)
            elif reply.get("id") == msg["id"] and src == addr:
                return reply
        fail("no reply to %s from %s" % (msg["type"], addr))


def main():
    addr_a = (HOST, int(sys.argv[1]))
    port_b = int(sys.argv[2])
    peer = Peer()

    # 1. Ping: the responder's id is in data (the Python node's bootstrap reads it there).
    pong = peer.request(addr_a, {"type": "ping"})
    a_id = pong["data"].get("sender_id")
    if pong["data"].get("pong") is not True or a_id != pong["sender_id"] or len(a_id) != 40:
        fail("bad ping reply %r" % pong)

    # 2. Bootstrap through A: find_node returns B, which answers a ping with its own id.
    found = peer.request(addr_a, {"type": "find_node", "target_id": "7f2d1ac9a4b5e6f0" + "0" * 24})
    contacts = found["data"].get("contacts", [])
    b = [c for c in contacts if c.get("port") == port_b and c.get("ip") == HOST]
    if not b:
        fail("find_node did not return B: %r" % contacts)
    pong_b = peer.request((HOST, port_b), {"type": "ping"})
    if pong_b["data"].get("sender_id") != b[0]["node_id"]:
        fail("B's ping reply does not match its contact entry")

    # 3. Store an unsigned node record and read it back (model:* answers an array).
    record = {"node_id": MY_ID, "ip": HOST, "port": 8000, "model": "py-test", "load": 0.25, "tps": 10.0,
              "uptime": 5, "last_seen": time.time(), "dht_port": peer.sock.getsockname()[1]}
    stored = peer.request(addr_a, {"type": "store", "key": "model:py-test", "value": record})
    if stored["data"] != {"stored": True}:
        fail("store refused: %r" % stored)
    got = peer.request(addr_a, {"type": "find_value", "key": "model:py-test"})
    if got["data"].get("value") != [record]:
        fail("find_value model:py-test returned %r" % got["data"])

    # 4. node:<id> answers the one record as an object.
    peer.request(addr_a, {"type": "store", "key": "node:" + MY_ID, "value": record})
    got = peer.request(addr_a, {"type": "find_value", "key": "node:" + MY_ID})
    if got["data"].get("value") != record:
        fail("find_value node:%s returned %r" % (MY_ID, got["data"]))

    # 5. A lookup the Python way through B: ask B, follow contacts until a node has the value.
    queue, seen, value = [(HOST, port_b)], set(), None
    while queue and value is None:
        addr = queue.pop(0)
        if addr in seen:
            continue
        seen.add(addr)
        reply = peer.request(addr, {"type": "find_value", "key": "model:py-test"})
        value = reply["data"].get("value")
        queue += [(c["ip"], c["port"]) for c in reply["data"].get("contacts", [])]
    if value != [record]:
        fail("iterative find_value through B returned %r" % value)

    # 6. A set larger than what A sends an unproven source (3x the request: the Python peer
    #    never proves its address with a token) still answers records, marked truncated.
    for i in range(30):
        other = dict(record, node_id="%016x" % (0x1000 + i))
        stored = peer.request(addr_a, {"type": "store", "key": "all_nodes", "value": other})
        if stored["data"] != {"stored": True}:
            fail("store %d refused: %r" % (i, stored))
    request = {"type": "find_value", "key": "all_nodes"}
    got = peer.request(addr_a, request)
    data = got["data"]
    values = data.get("value") or []
    if not values or data.get("truncated") is not True or data.get("total") != 30:
        fail("find_value all_nodes returned %r" % data)
    if "token" in data or "unproven" in data:
        fail("a Python peer got fields it does not know: %r" % sorted(data))
    print("python peer: all_nodes of 30 records answered %d of them, truncated" % len(values))

    # 7. Garbage is dropped without a reply, and the node still answers afterwards.
    peer.send_raw(addr_a, b"\xff not json")
    peer.request(addr_a, {"type": "ping"})
    print("python peer: all checks passed")


if __name__ == "__main__":
    main()
