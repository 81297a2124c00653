"""A llamanet-node process on 127.0.0.1 and a raw-socket HTTP/1.1 client for edge tests.

The client sends bytes exactly as given (hostile ones included) while reading whatever the
node answers, so an early error (413, 431) is seen even when the node stops reading and
closes. Responses are parsed by hand: status, headers, body (Content-Length, chunked or up to
the close). Only processes started here are ever signalled, by PID.
"""
import errno
import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import time

NOSNIFF = ("x-content-type-options", "nosniff")


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_flags(node_bin):
    """The long flags the binary's --help lists (so that a test can say which flag is missing)."""
    try:
        out = subprocess.run([node_bin, "--help"], capture_output=True, timeout=20).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired):
        return set()
    flags = set()
    for word in out.split():
        if word.startswith("--"):
            flags.add(word.rstrip(",;:"))
    return flags


def wait_for_files(paths, timeout):
    """Bounded wait for the build outputs (the binary may be rebuilt under us)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(os.path.exists(p) for p in paths):
            return True
        time.sleep(0.5)
    return all(os.path.exists(p) for p in paths)


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lowercased name, value) as str (latin-1)
        self.body = body        # bytes

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def has_nosniff(self):
        return any(k == NOSNIFF[0] and v.strip().lower() == NOSNIFF[1] for k, v in self.headers)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %r %d bytes>" % (self.status, self.reason, len(self.body))


class _Incomplete(Exception):
    pass


def _parse_one(buf, head_only, at_eof):
    """(Response, bytes used) for the first response in buf; raises _Incomplete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        raise _Incomplete()
    head = buf[:end].decode("latin-1").split("\r\n")
    parts = head[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError("not an HTTP status line: %r" % head[0][:100])
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for line in head[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip().lower(), v.strip()))
    hdr = dict(headers)
    pos = end + 4
    if head_only or status < 200 or status in (204, 304):
        return Response(status, reason, headers, b""), pos
    if "chunked" in hdr.get("transfer-encoding", "").lower():
        body = b""
        while True:
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                raise _Incomplete()
            size = int(buf[pos:nl].split(b";")[0].strip() or b"0", 16)
            pos = nl + 2
            if size == 0:
                # Trailers end with an empty line.
                tend = buf.find(b"\r\n", pos)
                while tend >= 0 and tend != pos:
                    pos = tend + 2
                    tend = buf.find(b"\r\n", pos)
                if tend < 0:
                    raise _Incomplete()
                return Response(status, reason, headers, body), tend + 2
            if len(buf) < pos + size + 2:
                raise _Incomplete()
            body += buf[pos:pos + size]
            pos += size + 2
    if "content-length" in hdr:
        n = int(hdr["content-length"])
        if len(buf) < pos + n:
            raise _Incomplete()
        return Response(status, reason, headers, buf[pos:pos + n]), pos + n
    if not at_eof:
        raise _Incomplete()
    return Response(status, reason, headers, buf[pos:]), len(buf)


def parse_responses(buf, head_only=False, at_eof=False):
    """Complete responses at the start of buf, interim (1xx) ones included, and the rest."""
    out = []
    while buf:
        try:
            r, used = _parse_one(buf, head_only, at_eof)
        except _Incomplete:
            break
        out.append(r)
        buf = buf[used:]
    return out, buf


class Exchange:
    """What came back for a sent request: final responses, interim ones and how it ended."""

    def __init__(self):
        self.responses = []   # final (>= 200) responses, in order
        self.interim = []     # 1xx responses
        self.end = "open"     # "closed", "reset", "timeout" (still open at the deadline), "complete"
        self.sent_all = False
        self.first_byte_at = None  # seconds after connect
        self.error = None     # a parse error (garbage from the node)
        self.raw = b""

    @property
    def first(self):
        return self.responses[0] if self.responses else None

    def outcome(self):
        """The first final status, or how the connection ended without one."""
        if self.error:
            return "garbage (%s)" % self.error[:120]
        if self.responses:
            return self.responses[0].status
        return "closed" if self.end in ("closed", "reset") else self.end


def connect(port, host="127.0.0.1", source=None, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect((host, port))
    return s


def exchange(port, data, responses=1, timeout=5.0, half_close=False, head_only=False, pieces=None,
             source=None, wait_close=False, linger=0.0):
    """Sends `data` (or `pieces`: a list of (delay seconds, bytes)) on a new connection while
    reading, and returns an Exchange once `responses` final responses are whole, the node
    closed, or `timeout` passed. `half_close` shuts the write side once everything is sent;
    `wait_close` keeps reading after the responses until the node closes (end "closed") or
    the timeout (end "timeout"); `linger` keeps reading that long for answers nobody asked
    for (a node that took the rest of a bad head for further requests)."""
    ex = Exchange()
    start = time.time()
    try:
        s = connect(port, source=source, timeout=timeout)
    except OSError as e:
        ex.end = "refused" if e.errno == errno.ECONNREFUSED else "closed"
        return ex
    s.setblocking(False)
    if pieces is None:
        pieces = [(0, data)]
    queue = [(start + sum(d for d, _ in pieces[:i + 1]), p) for i, (_, p) in enumerate(pieces)]
    out = b""
    buf = b""
    deadline = start + timeout
    writing = True
    try:
        while True:
            now = time.time()
            if now >= deadline:
                ex.end = "timeout"
                break
            while queue and queue[0][0] <= now:
                out += queue.pop(0)[1]
            want_write = writing and bool(out)
            wait = deadline - now
            if queue and not out:
                wait = min(wait, max(0.0, queue[0][0] - now))
            poller = select.poll()  # not select(): its fds stop at 1024 and tests open hundreds
            poller.register(s, select.POLLIN | (select.POLLOUT if want_write else 0))
            events = poller.poll(min(wait, 0.2) * 1000)
            r = any(e & (select.POLLIN | select.POLLHUP | select.POLLERR) for _, e in events)
            w = want_write and any(e & (select.POLLOUT | select.POLLERR) for _, e in events)
            if w:
                try:
                    n = s.send(out[:65536])
                    out = out[n:]
                except BlockingIOError:
                    pass
                except OSError:
                    writing = False  # the node stopped reading; keep reading its answer
            if writing and not out and not queue and not ex.sent_all:
                ex.sent_all = True
                if half_close:
                    try:
                        s.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
            if r:
                try:
                    chunk = s.recv(1 << 20)
                except BlockingIOError:
                    chunk = None
                except OSError:
                    ex.end = "reset"
                    break
                if chunk == b"":
                    ex.end = "closed"
                    break
                if chunk:
                    if ex.first_byte_at is None:
                        ex.first_byte_at = time.time() - start
                    buf += chunk
                    ex.raw += chunk
                    try:
                        got, buf = parse_responses(buf, head_only)
                    except ValueError as e:
                        ex.error = str(e)
                        break
                    for g in got:
                        (ex.interim if g.status < 200 else ex.responses).append(g)
                    if len(ex.responses) >= responses and not wait_close:
                        if linger <= 0:
                            ex.end = "complete"
                            break
                        deadline = min(deadline, time.time() + linger)
                        linger = 0.0
                        wait_close = True
    finally:
        if ex.end in ("closed", "reset") and buf:
            try:
                got, buf = parse_responses(buf, head_only, at_eof=True)
                for g in got:
                    (ex.interim if g.status < 200 else ex.responses).append(g)
                if buf and not ex.error:
                    ex.error = "%d bytes after the last answer (a wrong Content-Length?): %r" % (len(buf), buf[:60])
            except ValueError as e:
                ex.error = str(e)
        s.close()
    return ex


def request_bytes(method, path, body=None, headers=None, version="HTTP/1.1", close=True, host=True):
    """A well-formed request; headers is a list of (name, value) (str or bytes)."""
    def b(x):
        return x if isinstance(x, bytes) else str(x).encode("utf-8")
    lines = [b(method) + b" " + b(path) + b" " + b(version)]
    if host:
        lines.append(b"Host: 127.0.0.1")
    for k, v in headers or []:
        lines.append(b(k) + b": " + b(v))
    if body is not None:
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        lines.append(b"Content-Type: application/json")
        lines.append(b"Content-Length: " + str(len(body)).encode())
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def error_shape_problem(resp, shape):
    """None when an error body is valid UTF-8 JSON in the shape expected: "native" {"detail"},
    "openai" {"error": {"message", "type", "param", "code"}}, or "any" (either). Messages must
    not carry control characters (no raw request bytes echoed)."""
    try:
        text = resp.body.decode("utf-8")
    except UnicodeDecodeError:
        return "error body is not UTF-8: %r" % resp.body[:80]
    try:
        j = json.loads(text)
    except ValueError:
        return "error body is not JSON: %r" % text[:80]
    msg = None
    native = isinstance(j, dict) and isinstance(j.get("detail"), str)
    openai = (isinstance(j, dict) and isinstance(j.get("error"), dict) and isinstance(j["error"].get("message"), str)
              and all(k in j["error"] for k in ("type", "param", "code")))
    if shape == "native" and not native:
        return "not the native error shape {\"detail\": ...}: %r" % text[:120]
    if shape == "openai" and not openai:
        return "not OpenAI's error shape {\"error\": {message, type, param, code}}: %r" % text[:120]
    if shape == "any" and not (native or openai):
        return "not an error shape: %r" % text[:120]
    msg = j["detail"] if native else j["error"]["message"]
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in msg):
        return "error message echoes control bytes: %r" % msg[:120]
    return None


class NodeProcess:
    """One llamanet-node; restart() starts a fresh one on new ports (after a crash)."""

    def __init__(self, node_bin, model, extra=(), name="node", env=None, workdir=None, parallel=2, n_ctx=512):
        self.node_bin = node_bin
        self.parallel = parallel
        self.n_ctx = n_ctx
        self.model = model
        self.extra = list(extra)
        self.name = name
        self.env = env
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="llamanet-http-")
        self.dir = workdir or self._tmp.name
        self.proc = None
        self.log_path = os.path.join(self.dir, name + ".log")
        self.key_file = os.path.join(self.dir, name + ".key")
        self.port = None
        self.dht_port = None
        self.starts = 0

    def args(self):
        return [self.node_bin, "--model-path", self.model, "--host", "127.0.0.1", "--port", str(self.port),
                "--dht-port", str(self.dht_port), "--key-file", self.key_file, "--threads", "1",
                "--parallel", str(self.parallel), "--n-ctx", str(self.n_ctx)] + self.extra

    def start(self, timeout=60):
        self.port = free_port()
        self.dht_port = free_port(socket.SOCK_DGRAM)
        self.starts += 1
        log = open(self.log_path, "ab")
        env = dict(os.environ)
        env.update(self.env or {})
        self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (self.name, self.proc.returncode, self.tail()))
            if self.healthy(timeout=1):
                return self
            time.sleep(0.05)
        raise RuntimeError("%s never answered /health:\n%s" % (self.name, self.tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def healthy(self, timeout=3, headers=()):
        ex = exchange(self.port, request_bytes("GET", "/health", headers=list(headers)), timeout=timeout)
        return ex.first is not None and ex.first.status == 200

    def tail(self, lines=12):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout=10):
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.stop(timeout=3)
        return self.start()

    def close(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        if self._tmp:
            self._tmp.cleanup()


def raise_nofile(want):
    """Lifts this process's open-file limit towards `want` (as far as the hard limit allows)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def sse_events(body):
    """The data: payloads of an SSE body (bytes), in order."""
    out = []
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        data = [line[5:].lstrip() for line in block.split(b"\n") if line.startswith(b"data:")]
        if data:
            out.append(b"\n".join(data))
    return out
