"""Each limit of the node's HTTP edge, its default and its flag (issue 13 item 3), the routes an
--api-key leaves open (item 8) and X-Content-Type-Options: nosniff on every answer.

Usage: limits_test.py NODE_BIN TINY_MODEL

Limits under test (flag: default, answer beyond it):
  --max-body-bytes 4194304 (413, before the body for Content-Length, at once for chunked),
  --max-header-bytes 16384 (431, request line + header lines), --max-headers 64 (431),
  --header-timeout 10 s (408 and closed), --max-connections 1024 (503 or refused),
  --max-connections-per-ip 128 (429 or refused), Range: one range 206, more 416.
Several client addresses come from 127.0.0.0/8 (any 127.x.y.z is this host's loopback).
One line per test, then "N passed, N failed"; exit non-zero on any failure.
"""
import json
import os
import re
import select
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_node import (node_and_model, NodeProcess, connect, error_shape_problem, node_flags, request_bytes, sse_events)  # noqa: E402
import http_node  # noqa: E402

KEY = "limits-test-key"
BODY_LIMIT = 65536
HEADER_BYTES = 8192
HEADERS = 20
HEADER_TIMEOUT = 2
PER_IP = 8
TOTAL = 16
NATIVE = {"prompt": "Hello", "max_tokens": 2}


class Failure(AssertionError):
    pass


def expect(ex, ok, shape=None, what=""):
    """The exchange's outcome is in ok; every answer has nosniff; errors have the shape."""
    out = ex.outcome()
    if len(ex.responses) > 1:
        raise Failure("%s: %d answers to one request (%s)" % (what, len(ex.responses),
                                                              "/".join(str(r.status) for r in ex.responses)))
    if out not in ok:
        raise Failure("%s: got %s, want %s" % (what, out, "/".join(str(s) for s in sorted(ok, key=str))))
    for r in ex.responses:
        if not r.has_nosniff():
            raise Failure("%s: %d answer without X-Content-Type-Options: nosniff" % (what, r.status))
        if r.status >= 400 and shape:
            p = error_shape_problem(r, shape)
            if p:
                raise Failure("%s: %s" % (what, p))
    return ex.first


def exchange(port, data, **kw):
    """http_node.exchange, reading on a little after the answer: bytes past a wrong
    Content-Length, or answers nobody asked for, then show up."""
    kw.setdefault("linger", 0.3)
    return http_node.exchange(port, data, **kw)


def padded_json(obj, size):
    """JSON text of obj padded with spaces to exactly `size` bytes."""
    text = json.dumps(obj).encode()
    assert len(text) <= size
    return text + b" " * (size - len(text))


def head_of(size, path="/health", line=4000):
    """A GET whose head (request line + header lines, CRLFs and the blank line included) is
    `size` bytes, padded in X-Pad header lines of at most `line` bytes."""
    base = request_bytes("GET", path)
    headers = []
    left = size - len(base)
    while left > 0:
        overhead = len("X-Pad-%d: \r\n" % len(headers))
        n = min(line, left) - overhead
        if n < 1:  # too little left for a line of its own: lengthen the last one
            k, v = headers[-1]
            headers[-1] = (k, v + "p" * left)
            break
        headers.append(("X-Pad-%d" % len(headers), "p" * n))
        left -= n + overhead
    out = request_bytes("GET", path, headers=headers)
    assert len(out) == size, (len(out), size)
    return out


def with_headers(count, path="/health"):
    """A GET with exactly `count` header lines (Host and Connection included)."""
    return request_bytes("GET", path, headers=[("X-H%d" % i, "v") for i in range(count - 2)])


def chunked_head(path):
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")


def chunks(data, size=4096):
    return b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size]) for i in range(0, len(data), size))


# ---------------------------------------------------------------- body size


def test_body_content_length(nodes):
    n = nodes["limits"]
    for path, shape in (("/generate", "native"), ("/v1/chat/completions", "openai")):
        head = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n" % (path.encode(), BODY_LIMIT + 1))
        t = time.time()
        ex = exchange(n.port, head, timeout=3)  # the body is never sent: 413 must not wait for it
        expect(ex, {413}, shape, "Content-Length limit+1 on %s, body not sent" % path)
        if time.time() - t > 2:
            raise Failure("413 took %.1f s" % (time.time() - t))
    ex = exchange(n.port, request_bytes("POST", "/generate", body=padded_json(NATIVE, BODY_LIMIT)), timeout=30)
    expect(ex, {200}, "native", "a body of exactly --max-body-bytes")
    return "limit+1 -> 413 before the body; exactly the limit -> 200"


def test_body_chunked(nodes):
    n = nodes["limits"]
    # Over the limit and never finished: the 413 must come as soon as the limit is passed.
    data = chunked_head("/generate") + chunks(b"[" + b" " * (BODY_LIMIT + 4096) + b"]")
    ex = exchange(n.port, data, timeout=4)
    expect(ex, {413}, "native", "chunked body past the limit, left unfinished")
    ex = exchange(n.port, chunked_head("/v1/completions") + chunks(b" " * (1 << 20)) + b"0\r\n\r\n", timeout=6)
    expect(ex, {413}, "openai", "1 MiB chunked on /v1/completions")
    ex = exchange(n.port, chunked_head("/generate") + chunks(padded_json(NATIVE, BODY_LIMIT - 100), 1000) +
                  b"0\r\n\r\n", timeout=30)
    expect(ex, {200}, "native", "chunked body under the limit")
    return "unfinished chunked body past the limit -> 413; under it -> 200"


def test_body_default(nodes):
    n = nodes["defaults"]
    limit = 4194304
    head = b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (limit + 1)
    expect(exchange(n.port, head, timeout=3), {413}, "native", "default: Content-Length 4194305")
    ex = exchange(n.port, chunked_head("/generate") + chunks(b" " * (limit + 1024), 65536), timeout=8)
    expect(ex, {413}, "native", "default: chunked 4 MiB + 1 KiB")
    ex = exchange(n.port, request_bytes("POST", "/generate", body=padded_json(NATIVE, limit)), timeout=60)
    expect(ex, {200}, "native", "default: a body of exactly 4194304 bytes")
    return "4194305 -> 413, 4194304 -> 200"


# ---------------------------------------------------------------- head size and count


def test_header_bytes(nodes):
    n, d = nodes["limits"], nodes["defaults"]
    expect(exchange(n.port, head_of(HEADER_BYTES - 1024)), {200}, "native", "head of limit-1024 bytes")
    expect(exchange(n.port, head_of(HEADER_BYTES + 1024)), {431}, "native", "head of limit+1024 bytes")
    # Neither the request line nor the headers pass the limit alone; together they do.
    both = request_bytes("GET", "/health?q=" + "a" * (HEADER_BYTES // 2), headers=[("X-Pad", "p" * (HEADER_BYTES // 2))])
    expect(exchange(n.port, both), {431}, "native", "request line + headers over the limit together")
    expect(exchange(d.port, head_of(16384 - 1024)), {200}, "native", "default: head of 15 KiB")
    expect(exchange(d.port, head_of(16384 + 1024)), {431}, "native", "default: head of 17 KiB")
    expect(exchange(d.port, head_of(16384 + 1024, "/v1/models")), {431}, "openai", "default: 17 KiB head on /v1")
    # The limit is on the whole head: one long line under it is no error.
    expect(exchange(d.port, head_of(12288, line=12288)), {200}, "native", "default: one 12 KiB header line")
    return "limit-1 KiB -> 200, limit+1 KiB -> 431 (flag and default)"


def test_request_line(nodes):
    n, d = nodes["limits"], nodes["defaults"]
    expect(exchange(n.port, request_bytes("GET", "/health?q=" + "a" * (HEADER_BYTES + 100))), {431}, "native",
           "request line over --max-header-bytes")
    expect(exchange(d.port, request_bytes("GET", "/health?q=" + "a" * (16384 + 100))), {431}, "native",
           "default: 16.1 KiB request line")
    expect(exchange(d.port, request_bytes("GET", "/" + "a" * 65536)), {431}, "native", "default: 64 KiB request line")
    return "over the limit -> 431"


def test_header_count(nodes):
    n, d = nodes["limits"], nodes["defaults"]
    expect(exchange(n.port, with_headers(HEADERS)), {200}, "native", "exactly --max-headers header lines")
    expect(exchange(n.port, with_headers(HEADERS + 1)), {431}, "native", "--max-headers + 1 header lines")
    expect(exchange(d.port, with_headers(64)), {200}, "native", "default: 64 header lines")
    expect(exchange(d.port, with_headers(65)), {431}, "native", "default: 65 header lines")
    expect(exchange(d.port, with_headers(1000)), {431}, "native", "default: 1,000 header lines")
    return "limit -> 200, limit+1 -> 431 (flag and default)"


# ---------------------------------------------------------------- Range


def test_range(nodes):
    d = nodes["defaults"]
    whole = expect(exchange(d.port, request_bytes("GET", "/")), {200}, None, "GET /")
    size = len(whole.body)
    r = expect(exchange(d.port, request_bytes("GET", "/", headers=[("Range", "bytes=0-9")])), {206}, None,
               "one range on /")
    if r.body != whole.body[:10] or not re.match(r"bytes 0-9/%d$" % size, r.header("content-range") or ""):
        raise Failure("one range: body %r, Content-Range %r" % (r.body, r.header("content-range")))
    r = expect(exchange(d.port, request_bytes("GET", "/static/app.js", headers=[("Range", "bytes=-5")])), {206}, None,
               "a suffix range on /static/app.js")
    if len(r.body) != 5:
        raise Failure("suffix range gave %d bytes" % len(r.body))
    for rng in ("bytes=0-1,4-5", "bytes=" + ",".join("%d-%d" % (i, i) for i in range(100)), "bytes=0-,0-",
                "bytes=%d-" % (size + 10)):
        expect(exchange(d.port, request_bytes("GET", "/", headers=[("Range", rng)])), {416}, "native",
               "Range %s" % rng[:30])
    css = "/static/vendor/bootstrap.min.css"
    ex = exchange(d.port, request_bytes("GET", css, headers=[("Range", "bytes=" + ",".join(["0-"] * 2000))]), timeout=5)
    expect(ex, {416, 431}, "native", "2,000 whole-file ranges of bootstrap.min.css")
    if len(ex.raw) > 65536:
        raise Failure("2,000 ranges answered with %d bytes" % len(ex.raw))
    return "one range -> 206 with Content-Range; several -> 416"


# ---------------------------------------------------------------- header deadline


def trickle_until_answer(port, prefix, every, limit_s):
    """Sends prefix, then one byte every `every` s, until the node answers and closes; returns
    (Exchange, seconds to the answer)."""
    pieces = [(0, prefix)] + [(every, b"a")] * int(limit_s / every)
    ex = exchange(port, None, pieces=pieces, timeout=limit_s, wait_close=True)
    return ex, ex.first_byte_at if ex.first_byte_at is not None else limit_s


def test_header_timeout(nodes):
    n = nodes["limits"]
    ex, took = trickle_until_answer(n.port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ", 0.25, HEADER_TIMEOUT + 4)
    expect(ex, {408}, "native", "a head trickled a byte every 0.25 s")
    if not HEADER_TIMEOUT - 0.5 <= took <= HEADER_TIMEOUT + 1.5:
        raise Failure("408 after %.1f s (deadline %d s)" % (took, HEADER_TIMEOUT))
    if ex.end not in ("closed", "reset"):
        raise Failure("the connection is still open %.0f s after the 408" % (HEADER_TIMEOUT + 4 - took))
    # A partial head, then silence.
    ex = exchange(n.port, b"POST /generate HTTP/1.1\r\nHost: x\r\n", timeout=HEADER_TIMEOUT + 4, wait_close=True)
    expect(ex, {408}, "native", "a partial head, then nothing")
    if ex.first_byte_at > HEADER_TIMEOUT + 1.5 or ex.end not in ("closed", "reset"):
        raise Failure("408 after %.1f s, connection %s" % (ex.first_byte_at, ex.end))
    return "408 after %.1f s of trickling, then closed" % took


def default_header_timeout(port, result):
    """Runs beside the other tests: a head trickled to a default node must be cut at ~10 s."""
    try:
        ex, took = trickle_until_answer(port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ", 0.5, 14)
        result["outcome"], result["took"], result["end"] = ex.outcome(), took, ex.end
        result["nosniff"] = all(r.has_nosniff() for r in ex.responses)
    except Exception as e:  # reported by the test that reads it
        result["outcome"] = "error %s" % e


def test_header_timeout_default(nodes, background):
    background["thread"].join(timeout=20)
    r = background["result"]
    if r.get("outcome") != 408 or not (9 <= r.get("took", 0) <= 11.5) or not r.get("nosniff"):
        raise Failure("default deadline: %s after %.1f s (want 408 at ~10 s with nosniff)" % (
            r.get("outcome"), r.get("took", 0)))
    return "408 after %.1f s" % r["took"]


# ---------------------------------------------------------------- connections


def hold(port, count, source):
    """`count` open connections from `source`, each in the middle of its request line, so that
    the node holds them for its header timeout (an idle one it may close after 5 s)."""
    def opened():
        s = connect(port, source=source, timeout=3)
        s.sendall(b"GET /health HTTP/1.1\r\n")
        return s

    socks = [opened() for _ in range(count)]
    # The node admits each connection on its own thread: under load a later connection can be
    # admitted before an earlier one, which is then refused. Replace any that got an answer
    # until all are held quietly (bounded).
    deadline = time.time() + 10
    while time.time() < deadline:
        answered, _, _ = select.select(socks, [], [], 0.3)
        if not answered:
            break
        for s in answered:
            socks.remove(s)
            s.close()
            socks.append(opened())
    return socks


def refused_within(port, source, ok, timeout=3.0):
    """Bounded wait until a new connection from `source` is refused (an answer in ok, or the
    connection closed/refused without one); returns the last outcome."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        ex = exchange(port, request_bytes("GET", "/health"), timeout=1.5, source=source)
        last = ex.outcome()
        if last in ok or last in ("closed", "refused"):
            expect(ex, ok | {"closed", "refused"}, "native", "a connection over the cap")
            return last
        time.sleep(0.1)
    raise Failure("a connection over the cap from %s still got %s after %.0f s" % (source, last, timeout))


def served(port, source, what):
    expect(exchange(port, request_bytes("GET", "/health"), timeout=3, source=source), {200}, "native", what)


def released(port, source, what, timeout=3.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if exchange(port, request_bytes("GET", "/health"), timeout=1.5, source=source).outcome() == 200:
            return
        time.sleep(0.1)
    raise Failure(what)


def test_connections_per_ip(nodes):
    c = nodes["conns"]
    socks = hold(c.port, PER_IP, "127.0.0.1")
    try:
        got = refused_within(c.port, "127.0.0.1", {429})
        served(c.port, "127.0.0.2", "another address while 127.0.0.1 is at its cap")
    finally:
        for s in socks:
            s.close()
    released(c.port, "127.0.0.1", "127.0.0.1 still refused after its connections closed")
    return "connection %d from one address -> %s; another address served; freed on close" % (PER_IP + 1, got)


def test_connections_total(nodes):
    c = nodes["conns"]
    socks = []
    try:
        for i in range(TOTAL // PER_IP):
            socks += hold(c.port, PER_IP, "127.0.0.%d" % (10 + i))
        got = refused_within(c.port, "127.0.0.30", {503})
    finally:
        for s in socks:
            s.close()
    released(c.port, "127.0.0.30", "still refused after all connections closed")
    return "connection %d -> %s; freed on close" % (TOTAL + 1, got)


# ---------------------------------------------------------------- --api-key


OPEN = ["/health", "/status", "/", "/static/app.js", "/static/vendor/bootstrap.min.css"]
CLOSED_GET = [("/info", "native"), ("/nodes", "native"), ("/dht/status", "native"), ("/metrics", "native"),
              ("/v1/models", "openai")]


def closed_posts(model):
    return [("/generate", NATIVE, "native"), ("/generate/stream", NATIVE, "native"),
            ("/v1/completions", {"model": model, "prompt": "Hello", "max_tokens": 2}, "openai"),
            ("/v1/chat/completions", {"model": model, "messages": [{"role": "user", "content": "Hi"}],
                                      "max_tokens": 2}, "openai")]


def test_api_key_scope(nodes):
    k = nodes["keyed"]
    good = [("Authorization", "Bearer " + KEY)]
    model = model_of(k, good)
    for path in OPEN:
        expect(exchange(k.port, request_bytes("GET", path)), {200}, None, "open route %s without a key" % path)
    gets = CLOSED_GET + [("/v1/models/" + model, "openai")]
    for auth in ([], [("Authorization", "Bearer nope")], [("Authorization", KEY)]):
        for path, shape in gets:
            expect(exchange(k.port, request_bytes("GET", path, headers=auth)), {401}, shape,
                   "%s with %s" % (path, auth or "no key"))
        for path, body, shape in closed_posts(model):
            expect(exchange(k.port, request_bytes("POST", path, body=body, headers=auth)), {401}, shape,
                   "%s with %s" % (path, auth or "no key"))
    for path, shape in gets:
        expect(exchange(k.port, request_bytes("GET", path, headers=good)), {200}, shape, "%s with the key" % path)
    for path, body, shape in closed_posts(model):
        expect(exchange(k.port, request_bytes("POST", path, body=body, headers=good), timeout=30), {200}, shape,
               "%s with the key" % path)
    return "%d open routes, %d need the key" % (len(OPEN), len(gets) + 4)


def test_metrics_open(nodes):
    m = nodes["metrics"]
    r = expect(exchange(m.port, request_bytes("GET", "/metrics")), {200}, None, "/metrics under --metrics-open")
    if b"# TYPE" not in r.body:
        raise Failure("/metrics is not Prometheus text")
    expect(exchange(m.port, request_bytes("GET", "/info")), {401}, "native", "/info under --metrics-open")
    expect(exchange(m.port, request_bytes("POST", "/generate", body=NATIVE)), {401}, "native",
           "/generate under --metrics-open")
    return "/metrics open, /info and /generate still need the key"


# ---------------------------------------------------------------- nosniff


def model_of(node, headers=()):
    ex = exchange(node.port, request_bytes("GET", "/v1/models", headers=list(headers)))
    try:
        return ex.first.json()["data"][0]["id"]
    except (AttributeError, ValueError, KeyError, IndexError, TypeError):
        raise Failure("GET /v1/models: %s" % ex.outcome())


def test_nosniff_everywhere(nodes):
    d = nodes["defaults"]
    model = model_of(d)
    seen = 0
    for path in OPEN + [p for p, _ in CLOSED_GET] + ["/v1/models/" + model, "/v1/models/none", "/nope", "/v1/nope",
                                                    "/static/nope.js"]:
        for method in ("GET", "HEAD"):
            ex = exchange(d.port, request_bytes(method, path), head_only=method == "HEAD")
            expect(ex, {200, 404}, None, "%s %s" % (method, path))
            seen += 1
    for path, body, _ in closed_posts(model):
        for stream in (False, True):
            b = dict(body, stream=True) if stream else body
            if stream and path == "/generate":
                continue
            expect(exchange(d.port, request_bytes("POST", path, body=b), timeout=30), {200}, None,
                   "POST %s%s" % (path, " stream" if stream else ""))
            expect(exchange(d.port, request_bytes("POST", path, body=b"{")), {400, 422}, None, "POST %s bad JSON" % path)
            seen += 2
    expect(exchange(d.port, request_bytes("DELETE", "/health")), {404, 405}, None, "DELETE /health")
    expect(exchange(d.port, request_bytes("GET", "/", headers=[("If-None-Match", _etag(d))])), {304}, None, "304 on /")
    return "%d answers, all with nosniff" % (seen + 2)


def _etag(node):
    r = exchange(node.port, request_bytes("GET", "/")).first
    return (r.header("etag") if r else None) or '"none"'


def test_nosniff_forwarded(nodes):
    entry, peer = nodes["fwd-entry"], nodes["fwd-peer"]
    peer_model = model_of(peer)
    peer_id = None
    deadline = time.time() + 20
    while time.time() < deadline:
        ex = exchange(entry.port, request_bytes("POST", "/v1/chat/completions", body={
            "model": peer_model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}), timeout=30)
        if ex.outcome() == 200:
            peer_id = ex.first.header("x-llamanet-node")
            break
        time.sleep(0.5)
    if peer_id is None:
        raise Failure("the entry node never forwarded to the peer's model within 20 s (%s)" % ex.outcome())
    expect(ex, {200}, None, "forwarded chat completion")
    ctype = (ex.first.header("content-type") or "").split(";")[0].strip()
    if ctype != "application/json":
        raise Failure("forwarded answer has Content-Type %r" % ctype)
    ex = exchange(entry.port, request_bytes("POST", "/v1/chat/completions", body={
        "model": peer_model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2, "stream": True}),
        timeout=30)
    expect(ex, {200}, None, "forwarded chat stream")
    ctype = (ex.first.header("content-type") or "").split(";")[0].strip()
    if ctype != "text/event-stream" or not sse_events(ex.first.body):
        raise Failure("forwarded stream: Content-Type %r, %d events" % (ctype, len(sse_events(ex.first.body))))
    ex = exchange(entry.port, request_bytes("POST", "/v1/chat/completions", body={
        "model": peer_model, "messages": [{"role": "nobody", "content": "Hi"}]}), timeout=30)
    expect(ex, {400}, "openai", "forwarded error")
    return "forwarded answer, stream and error carry nosniff (served by %s)" % peer_id


# ---------------------------------------------------------------- runner


TESTS = [  # name, function, flags it needs, nodes it uses
    ("body size, Content-Length", test_body_content_length, ["--max-body-bytes"], ["limits"]),
    ("body size, chunked", test_body_chunked, ["--max-body-bytes"], ["limits"]),
    ("body size, default 4 MiB", test_body_default, [], ["defaults"]),
    ("header bytes", test_header_bytes, ["--max-header-bytes"], ["limits", "defaults"]),
    ("request line", test_request_line, ["--max-header-bytes"], ["limits", "defaults"]),
    ("header count", test_header_count, ["--max-headers"], ["limits", "defaults"]),
    ("Range", test_range, [], ["defaults"]),
    ("header timeout", test_header_timeout, ["--header-timeout"], ["limits"]),
    ("connections per address", test_connections_per_ip, ["--max-connections-per-ip"], ["conns"]),
    ("connections in all", test_connections_total, ["--max-connections", "--max-connections-per-ip"], ["conns"]),
    ("--api-key scope", test_api_key_scope, [], ["keyed"]),
    ("--metrics-open", test_metrics_open, ["--metrics-open"], ["metrics"]),
    ("nosniff on every route", test_nosniff_everywhere, [], ["defaults"]),
    ("nosniff on forwarded answers", test_nosniff_forwarded, [], ["fwd-entry", "fwd-peer"]),
]

NODES = {
    "limits": ["--max-body-bytes", str(BODY_LIMIT), "--max-header-bytes", str(HEADER_BYTES),
               "--max-headers", str(HEADERS), "--header-timeout", str(HEADER_TIMEOUT)],
    "defaults": [],
    "conns": ["--max-connections", str(TOTAL), "--max-connections-per-ip", str(PER_IP)],
    "keyed": ["--api-key", KEY],
    "metrics": ["--api-key", KEY, "--metrics-open"],
    "fwd-peer": ["--heartbeat-interval", "1"],
    "fwd-entry": ["--heartbeat-interval", "1"],
}


def known_flags_only(extra, flags):
    """extra without the flags (and their values) this binary lacks; their tests fail anyway."""
    out = []
    i = 0
    while i < len(extra):
        has_value = i + 1 < len(extra) and not extra[i + 1].startswith("--")
        if extra[i] in flags:
            out += extra[i:i + (2 if has_value else 1)]
        i += 2 if has_value else 1
    return out


def run_tests(nodes, flags, start_errors):
    background = {"result": {}, "thread": None}
    if "defaults" not in start_errors:
        background["thread"] = threading.Thread(target=default_header_timeout,
                                                args=(nodes["defaults"].port, background["result"]), daemon=True)
        background["thread"].start()
    tests = TESTS + [("header timeout, default 10 s", lambda ns: test_header_timeout_default(ns, background), [],
                      ["defaults"])]
    passed = failed = 0
    for name, fn, needs, uses in tests:
        missing = [f for f in needs if f not in flags]
        dead = [u for u in uses if u in start_errors]
        t = time.time()
        try:
            if missing:
                raise Failure("the node has no %s flag" % ", ".join(missing))
            if dead:
                raise Failure("node %s did not start: %s" % (dead[0], start_errors[dead[0]]))
            note = fn(nodes)
            passed += 1
            print("ok    %-32s %s (%.1f s)" % (name, note, time.time() - t))
        except Exception as e:  # one failing test must not hide the others
            failed += 1
            kind = "" if isinstance(e, Failure) else type(e).__name__ + ": "
            print("FAIL  %-32s %s%s" % (name, kind, str(e)[:400]))
        for nname in uses:
            n = nodes[nname]
            if nname not in start_errors and not n.alive():
                print("      node %s died (exit %s): %s; restarting it" % (
                    nname, n.proc.returncode, n.tail(2).replace("\n", " | ")[-200:]))
                try:
                    n.start()
                except RuntimeError as e:
                    start_errors[nname] = str(e).replace("\n", " | ")[:300]
        sys.stdout.flush()
    return passed, failed


def main():
    node_bin, model_path = node_and_model(__doc__)
    started = time.time()
    flags = node_flags(node_bin)
    nodes = {}
    start_errors = {}
    workdir = NodeProcess(node_bin, model_path, name="workdir")
    passed = failed = 0
    try:
        # The peer serves the same weights under another model name (the file's name).
        peer_model = os.path.join(workdir.dir, "forwarded-model.gguf")
        shutil.copyfile(model_path, peer_model)
        for name, extra in NODES.items():
            nodes[name] = NodeProcess(node_bin, peer_model if name == "fwd-peer" else model_path,
                                      known_flags_only(extra, flags), name=name, workdir=workdir.dir)
        for name, n in nodes.items():
            if name == "fwd-entry" and nodes["fwd-peer"].dht_port:
                n.extra += ["--bootstrap-nodes", "127.0.0.1:%d" % nodes["fwd-peer"].dht_port]
            try:
                n.start()
            except RuntimeError as e:
                start_errors[name] = str(e).replace("\n", " | ")[:300]
        passed, failed = run_tests(nodes, flags, start_errors)
    finally:
        for n in nodes.values():
            n.close()
        workdir.close()
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.time() - started))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
