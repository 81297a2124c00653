"""Real llamanet-node processes on 127.0.0.1 for swarm tests: start, stop, kill, and HTTP.

Every node gets free ports, its own key file and log in a temporary folder; only the
processes started here are ever signalled, by PID.
"""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=30, headers=None):
    """Returns (status, headers, parsed JSON or text); status 0 when the connection failed."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read().decode("utf-8", "replace")
            return r.status, dict(r.headers), _parse(raw)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), _parse(e.read().decode("utf-8", "replace"))
    except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError):
        return 0, {}, None


def _parse(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class Node:
    def __init__(self, harness, name, model, bootstrap=(), heartbeat=1, extra=(), api_key=None):
        self.harness = harness
        self.name = name
        self.model = model
        self.port = free_port()
        self.dht_port = free_port(socket.SOCK_DGRAM)
        self.key_file = os.path.join(harness.dir, name + ".key")
        self.bootstrap = list(bootstrap)
        self.heartbeat = heartbeat
        self.extra = list(extra) + (["--api-key", api_key] if api_key else [])
        self.api_key = api_key
        self.proc = None
        self.log_path = os.path.join(harness.dir, name + ".log")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def dht_address(self):
        return "127.0.0.1:%d" % self.dht_port

    def start(self, wait=True):
        args = [self.harness.node_bin, "--model-path", self.model, "--host", "127.0.0.1",
                "--port", str(self.port), "--dht-port", str(self.dht_port), "--node-id", self.name,
                "--key-file", self.key_file, "--heartbeat-interval", str(self.heartbeat),
                "--parallel", "2", "--n-ctx", "512", "--threads", "1"] + self.extra
        if self.bootstrap:
            args += ["--bootstrap-nodes", ",".join(self.bootstrap)]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (self.name, self.proc.returncode, self.read_log()))
            status, _, _ = http("GET", self.url + "/health", timeout=2)
            if status == 200:
                return
            time.sleep(0.05)
        raise RuntimeError("%s never became healthy:\n%s" % (self.name, self.read_log()))

    def log_contains(self, text):
        with open(self.log_path, "rb") as f:
            return text.encode() in f.read()

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def freeze(self):
        """SIGSTOP: the process answers nothing, but its kernel still accepts connections."""
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.proc.send_signal(signal.SIGCONT)

    def node_ids(self):
        headers = {"Authorization": "Bearer " + self.api_key} if self.api_key else None
        status, _, body = http("GET", self.url + "/nodes", timeout=5, headers=headers)
        if status != 200:
            return set()
        return {n["node_id"] for n in body["nodes"]}


class Harness:
    def __init__(self, node_bin, mkmodel_bin, tiny_model):
        self.node_bin = node_bin
        self.mkmodel_bin = mkmodel_bin
        self.tiny_model = tiny_model
        self._tmp = tempfile.TemporaryDirectory(prefix="llamanet-swarm-")
        self.dir = self._tmp.name
        self.nodes = []

    def model(self, name, seed):
        """A tiny model under another name (the model name is the file name)."""
        path = os.path.join(self.dir, name + ".gguf")
        if not os.path.exists(path):
            subprocess.run([self.mkmodel_bin, "--output", path, "--preset", "tiny", "--seed", str(seed)],
                           check=True, stdout=subprocess.DEVNULL)
        return path

    def node(self, name, model, **kw):
        n = Node(self, name, model, **kw)
        self.nodes.append(n)
        return n

    def close(self):
        for n in self.nodes:
            n.stop(signal.SIGKILL)
        self._tmp.cleanup()


def wait_until(predicate, timeout, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
