#!/usr/bin/env python3
"""The container image and the compose swarm, for real, with podman (a CI step of its own).

Makes the Debian 12 base image locally (mmdebstrap, `podman import`, tagged debian:12-slim as
docker/Dockerfile names it: no image registry is reachable), builds docker/Dockerfile, and
brings docker/docker-compose.yml up with Debian's docker-compose talking to podman's
Docker-compatible socket. Then: the three nodes see each other, a chat request goes through
each node's published port, the HEALTHCHECK passes, a stopped node (SIGTERM, exit code 0)
leaves every other node's /nodes, and a new container in its place is back with the same
node id (its key lives in a volume). Everything it makes is named with one prefix and removed at the
end, whatever happened; it prints each phase's duration and the image's size.

Needs root, podman, runc, mmdebstrap, docker-compose (scripts/install-deps.sh) and llama.cpp's
git bundle in .deps/ (any build puts it there). LLAMANET_CONTAINER_JOBS: compile jobs in the
image build (default 2). LLAMANET_CONTAINER_IMAGE: test this image, already built from
docker/Dockerfile, instead of building one (it is left in place).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "swarm"))
from swarm_harness import free_port, http  # noqa: E402  (HTTP to the nodes, free ports)
COMPOSE_FILE = os.path.join(ROOT, "docker", "docker-compose.yml")
BUNDLE = os.path.join(ROOT, ".deps", "node-llama-cpp-3.21.1", "package", "llama", "gitRelease.bundle")
BASE_IMAGE = "docker.io/library/debian:12-slim"  # FROM debian:12-slim in docker/Dockerfile
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"
NODES = ("bootstrap", "node1", "node2")
IMAGE_GOAL_MB = 150
# Measured 194 MB: Debian slim 78 MB, and ggml's 14 CPU variants weigh most of the rest.
IMAGE_LIMIT_MB = 220
# What podman needs on this kind of machine (no systemd, no journald), in a file of our own.
CONTAINERS_CONF = """[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


class Failure(Exception):
    pass


def wait_for(what, condition, timeout_s, interval_s=1.0):
    """Polls `condition` until it returns a true value or `timeout_s` passes (then fails)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failure(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


class Run:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="llamanet-container-test.")
        self.prefix = f"lnct{os.getpid()}"
        self.given_image = os.environ.get("LLAMANET_CONTAINER_IMAGE")
        self.image = self.given_image or f"localhost/{self.prefix}-llamanet:test"
        self.made_base = False
        self.built_image = False
        self.service = None
        self.phases = []
        conf = os.path.join(self.dir, "containers.conf")
        with open(conf, "w") as f:
            f.write(CONTAINERS_CONF)
        socket_path = os.path.join(self.dir, "podman.sock")
        self.env = dict(os.environ, CONTAINERS_CONF=conf, DOCKER_HOST=f"unix://{socket_path}")
        self.socket_path = socket_path
        self.http_ports = [free_port(socket.SOCK_STREAM) for _ in NODES]
        self.dht_ports = [free_port(socket.SOCK_DGRAM) for _ in NODES]
        for i in range(len(NODES)):
            self.env[f"LLAMANET_PORT_{i}"] = str(self.http_ports[i])
            self.env[f"LLAMANET_DHT_PORT_{i}"] = str(self.dht_ports[i])
        self.env.update(LLAMANET_IMAGE=self.image, LLAMANET_BIND="127.0.0.1")
        for name in ("LLAMANET_MODELS", "LLAMANET_MODEL"):
            self.env.pop(name, None)

    # --- helpers ---------------------------------------------------------------------------
    def sh(self, *args, check=True, timeout=300, log=None):
        """Runs a command with this run's environment; returns its stdout (text)."""
        out = open(log, "a") if log else subprocess.PIPE
        try:
            p = subprocess.run(args, env=self.env, stdout=out, stderr=subprocess.STDOUT if log else subprocess.PIPE,
                               text=True, timeout=timeout, cwd=ROOT)
        finally:
            if log:
                out.close()
        if check and p.returncode != 0:
            detail = tail(log) if log else (p.stderr or p.stdout or "").strip()[-3000:]
            raise Failure(f"{' '.join(args[:4])} ... exited {p.returncode}:\n{detail}")
        return p.stdout if not log else ""

    def compose(self, *args, check=True, timeout=300):
        return self.sh("docker-compose", "-p", self.prefix, "-f", COMPOSE_FILE, *args, check=check, timeout=timeout)

    def container(self, service):
        cid = self.compose("ps", "-q", service).strip()
        if not cid:
            raise Failure(f"no container for {service}")
        return cid

    def url(self, i, path):
        return f"http://127.0.0.1:{self.http_ports[i]}{path}"

    def node_id(self, i):
        status, _, body = http("GET", self.url(i, "/info"), timeout=5)
        return body.get("node_id") if status == 200 and isinstance(body, dict) else None

    def listed(self, i):
        """The node ids node i lists in /nodes, or None when it does not answer."""
        status, _, body = http("GET", self.url(i, "/nodes"), timeout=5)
        if status != 200 or not isinstance(body, dict):
            return None
        return {n.get("node_id") for n in body.get("nodes", [])}

    def phase(self, name, fn):
        start = time.monotonic()
        print(f"--- {name}", flush=True)
        result = fn()
        took = time.monotonic() - start
        self.phases.append((name, took))
        print(f"    {name}: {took:.1f} s", flush=True)
        return result

    # --- phases ----------------------------------------------------------------------------
    def make_base(self):
        if self.given_image:
            return
        if subprocess.run(["podman", "image", "exists", BASE_IMAGE], env=self.env).returncode == 0:
            print(f"    {BASE_IMAGE} is already there: used as it is, not removed at the end")
            return
        tar = os.path.join(self.dir, "debian-12-slim.tar")
        # Like Debian's own slim image: minbase, merged /usr, no manuals, docs or locales.
        self.sh("mmdebstrap", "--variant=minbase", "--mode=root", "--format=tar",
                "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
                "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/doc/*",
                "--dpkgopt=path-include=/usr/share/doc/*/copyright", "--dpkgopt=path-exclude=/usr/share/locale/*",
                "--aptopt=APT::Install-Recommends \"false\"",
                "bookworm", tar,
                "deb http://deb.debian.org/debian bookworm main",
                "deb http://deb.debian.org/debian bookworm-updates main",
                "deb http://deb.debian.org/debian-security bookworm-security main",
                timeout=600, log=os.path.join(self.dir, "mmdebstrap.log"))
        self.sh("podman", "import", "--change", 'CMD ["bash"]', tar, BASE_IMAGE)
        self.made_base = True
        os.remove(tar)

    def build(self):
        if self.given_image:
            print(f"    testing {self.given_image}, built before")
            return
        jobs = os.environ.get("LLAMANET_CONTAINER_JOBS", "2")
        self.built_image = True
        # docker format: OCI images drop HEALTHCHECK. No intermediate images are kept; the
        # compiler cache (a RUN cache mount) is, so a rebuild compiles only what changed.
        # The system's CA bundle for npm inside the build: it holds a TLS-inspecting proxy's CA
        # where there is one (as on the machines this runs on).
        self.sh("podman", "build", "--format", "docker", "--layers=false", "--force-rm", "-f", "docker/Dockerfile",
                "-t", self.image, "--build-arg", f"JOBS={jobs}", "--secret", f"id=build_ca,src={SYSTEM_CA}", ".",
                timeout=3600, log=os.path.join(self.dir, "build.log"))

    def check_image(self):
        size_mb = int(self.sh("podman", "image", "inspect", "--format", "{{.Size}}", self.image).strip()) / 1e6
        print(f"    image size: {size_mb:.1f} MB (goal under {IMAGE_GOAL_MB} MB, limit {IMAGE_LIMIT_MB} MB)")
        if size_mb >= IMAGE_LIMIT_MB:
            raise Failure(f"the image is {size_mb:.1f} MB, over the {IMAGE_LIMIT_MB} MB limit")
        # (podman 4.3 does not show HEALTHCHECK here; check_containers runs it.)
        inspect = json.loads(self.sh("podman", "image", "inspect", self.image))[0]
        config = inspect.get("Config") or {}
        expect = {
            "user": config.get("User") == "llamanet",
            "EXPOSE 8000/tcp": "8000/tcp" in (config.get("ExposedPorts") or {}),
            "EXPOSE 8001/udp": "8001/udp" in (config.get("ExposedPorts") or {}),
            "key volume": "/var/lib/llamanet" in (config.get("Volumes") or {}),
            "entrypoint": config.get("Entrypoint") == ["llamanet-node"],
        }
        missing = [k for k, ok in expect.items() if not ok]
        if missing:
            raise Failure(f"image lacks {missing}: {json.dumps(inspect)[:3000]}")
        # The runtime stage holds the programs and libraries only.
        found = self.sh("podman", "run", "--rm", "--entrypoint", "/bin/sh", self.image, "-c",
                        "for t in cc gcc g++ c++ clang cmake ninja npm node git; do command -v $t; done;"
                        " ls -d /src /build /usr/include/c++ 2>/dev/null; id -un; ls /usr/local/lib/llamanet",
                        check=False).split()
        leftovers = [f for f in found if f.startswith("/")]
        if leftovers:
            raise Failure(f"the runtime image has build tools or sources: {leftovers}")
        if "llamanet" not in found:
            raise Failure(f"the image does not run as the llamanet user: {found}")
        variants = [f for f in found if f.startswith("libggml-cpu-")]
        print(f"    CPU backend variants: {len(variants)}")
        if len(variants) < 2:
            raise Failure(f"no portable CPU backends in the image: {found}")

    def start_socket(self):
        with open(os.path.join(self.dir, "podman-service.log"), "w") as log:
            self.service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{self.socket_path}"],
                                            env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        wait_for("podman's API socket", lambda: os.path.exists(self.socket_path) or self.service.poll() is not None, 30, 0.2)
        if self.service.poll() is not None:
            raise Failure("podman system service exited: " + tail(os.path.join(self.dir, "podman-service.log")))

    def up(self):
        self.compose("up", "-d", "--no-build", timeout=600)

    def swarm_formed(self):
        ids = wait_for("every node to answer /info", lambda: all(self.node_id(i) for i in range(len(NODES))) and
                       [self.node_id(i) for i in range(len(NODES))], 180)
        if len(set(ids)) != len(NODES):
            raise Failure(f"node ids are not distinct: {ids}")
        wait_for("the three nodes to list each other in /nodes",
                 lambda: all(self.listed(i) == set(ids) for i in range(len(NODES))), 180)
        print(f"    node ids: {ids}")
        return ids

    def chat_each(self, ids):
        for i, name in enumerate(NODES):
            body = {"messages": [{"role": "user", "content": f"Hello from the test to {name}"}], "max_tokens": 8}
            status, headers, answer = http("POST", self.url(i, "/v1/chat/completions"), body, timeout=60)
            if status != 200 or not isinstance(answer, dict) or not answer.get("choices"):
                raise Failure(f"chat through {name} (port {self.http_ports[i]}): {status} {answer}")
            served_by = {k.lower(): v for k, v in headers.items()}.get("x-llamanet-node")
            print(f"    chat through {name}: 200, served by {served_by}, "
                  f"{answer.get('usage', {}).get('completion_tokens')} tokens")
            if served_by not in ids:
                raise Failure(f"X-LlamaNet-Node {served_by!r} is not a swarm node")

    def check_containers(self):
        for name in NODES:
            cid = self.container(name)
            pid1 = self.sh("podman", "exec", cid, "cat", "/proc/1/cmdline").replace("\0", " ").strip()
            if not pid1.startswith("llamanet-node"):
                raise Failure(f"{name}: PID 1 is {pid1!r}, not the node")
            self.sh("podman", "healthcheck", "run", cid)
        print("    every node is PID 1 of its container and passes the HEALTHCHECK")

    def stop_one(self, ids):
        cid = self.container("node2")
        # A long generation is in flight when SIGTERM comes: the node drains it for up to 3 s
        # and still exits 0, well inside compose's grace period (no SIGKILL).
        in_flight = {}
        body = {"prompt": "Once upon a time", "max_tokens": 2000, "ignore_eos": True}
        # Marked as a client's request (as the client library marks them), so node2 serves it
        # itself: unmarked, cache-aware placement may send a new conversation to another node.
        request = threading.Thread(target=lambda: in_flight.update(
            answer=http("POST", self.url(2, "/v1/completions"), body, timeout=60,
                        headers={"X-LlamaNet-Forwarded": "client"})[0]))
        request.start()
        wait_for("the generation to start on node2",
                 lambda: not request.is_alive() or
                 (http("GET", self.url(2, "/status"), timeout=5)[2] or {}).get("slots_busy"), 30, 0.1)
        start = time.monotonic()
        self.compose("stop", "node2", timeout=60)
        took = time.monotonic() - start
        request.join(timeout=60)
        state = json.loads(self.sh("podman", "inspect", "--format", "{{json .State}}", cid))
        print(f"    docker-compose stop took {took:.1f} s; node2 exited {state.get('ExitCode')}, "
              f"{self.shutdown_seconds(cid):.1f} s after SIGTERM by its log; the generation in flight "
              f"got {in_flight.get('answer')}")
        if state.get("ExitCode") != 0:
            raise Failure(f"node2 did not stop cleanly on SIGTERM: {state}")
        if request.is_alive():
            raise Failure("the request in flight on node2 never ended")
        wait_for("node2 to leave every other node's /nodes",
                 lambda: all(self.listed(i) == set(ids[:2]) for i in range(2)), 60, 0.5)

    def shutdown_seconds(self, cid):
        """From the node's "received SIGTERM" log line to its "stopped" line (HH:MM:SS.mmm)."""
        stamps = {}
        logs = subprocess.run(["podman", "logs", "--tail", "20", cid], env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=60).stdout
        for line in logs.splitlines():
            for event in ("received SIGTERM", "stopped"):
                if line.endswith(event):
                    h, m, sec = line.split()[0].split(":")
                    stamps[event] = int(h) * 3600 + int(m) * 60 + float(sec)
        if len(stamps) != 2:
            raise Failure(f"node2's log does not show a SIGTERM and a clean stop: {stamps}")
        return stamps["stopped"] - stamps["received SIGTERM"]

    def restart_one(self, ids):
        # A new container on the same state volume: the key survives in the volume, not in a
        # container's own files.
        self.compose("rm", "-f", "node2", timeout=60)
        self.compose("up", "-d", "--no-deps", "--no-build", "node2", timeout=120)
        wait_for("node2 to answer again", lambda: self.node_id(2), 120)
        if self.node_id(2) != ids[2]:
            raise Failure(f"node2 came back as {self.node_id(2)}, not {ids[2]}: its key did not survive")
        wait_for("node2 to be back in every node's /nodes",
                 lambda: all(self.listed(i) == set(ids) for i in range(len(NODES))), 180)
        print(f"    node2 is back as {ids[2]}")

    def down(self):
        self.compose("down", "-v", "--remove-orphans", timeout=300)
        self.remove_images()
        left = self.leftovers()
        if left:
            raise Failure(f"left behind: {left}")

    # --- cleanup ---------------------------------------------------------------------------
    def remove_images(self):
        if self.built_image:
            subprocess.run(["podman", "rmi", "-f", self.image], env=self.env, capture_output=True)
            self.built_image = False
        if self.made_base:
            subprocess.run(["podman", "rmi", BASE_IMAGE], env=self.env, capture_output=True)
            self.made_base = False

    def leftovers(self):
        left = []
        for kind, cmd in (("container", ["ps", "-a"]), ("volume", ["volume", "ls"]), ("network", ["network", "ls"])):
            out = subprocess.run(["podman", *cmd, "--filter", f"name={self.prefix}", "--format", "{{.Name}}" if kind != "container" else "{{.Names}}"],
                                 env=self.env, capture_output=True, text=True).stdout.split()
            left += [f"{kind} {n}" for n in out if n.startswith(self.prefix)]
        return left

    def cleanup(self):
        """Removes whatever is left of this run: only names with this run's prefix."""
        if self.service and self.service.poll() is None:
            subprocess.run(["docker-compose", "-p", self.prefix, "-f", COMPOSE_FILE, "down", "-v", "--remove-orphans",
                            "-t", "5"], env=self.env, capture_output=True, timeout=300, cwd=ROOT)
        for item in self.leftovers():
            kind, name = item.split(" ", 1)
            rm = {"container": ["rm", "-f"], "volume": ["volume", "rm", "-f"], "network": ["network", "rm", "-f"]}[kind]
            subprocess.run(["podman", *rm, name], env=self.env, capture_output=True)
        self.remove_images()
        if self.service:
            if self.service.poll() is None:
                self.service.terminate()
                try:
                    self.service.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.service.kill()
                    self.service.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def preflight():
    if os.geteuid() != 0:
        raise Failure("needs root (rootful podman, mmdebstrap --mode=root)")
    for tool in ("podman", "runc", "mmdebstrap", "docker-compose"):
        if shutil.which(tool) is None:
            raise Failure(f"{tool} is not installed (scripts/install-deps.sh installs it)")
    if not os.path.isfile(SYSTEM_CA):
        raise Failure(f"no CA bundle at {SYSTEM_CA} (apt-get install ca-certificates)")
    if not os.path.isfile(BUNDLE):
        raise Failure(f"llama.cpp's git bundle is not at {BUNDLE}: build once first (scripts/build.sh)")


def main():
    started = time.monotonic()
    try:
        preflight()
    except Failure as e:
        print(f"FAIL: {e}")
        return 1
    run = Run()
    try:
        run.phase("base image (mmdebstrap + podman import)", run.make_base)
        run.phase("image build", run.build)
        run.phase("image checks", run.check_image)
        run.phase("podman API socket", run.start_socket)
        run.phase("compose up", run.up)
        ids = run.phase("swarm formed", run.swarm_formed)
        run.phase("chat through every node", lambda: run.chat_each(ids))
        run.phase("PID 1 and HEALTHCHECK", run.check_containers)
        run.phase("stop node2 (SIGTERM)", lambda: run.stop_one(ids))
        run.phase("node2 in a new container (same identity)", lambda: run.restart_one(ids))
        run.phase("compose down and remove", run.down)
    except (Failure, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {e}")
        if run.service and run.service.poll() is None:
            logs = subprocess.run(["docker-compose", "-p", run.prefix, "-f", COMPOSE_FILE, "logs", "--no-color",
                                   "--tail", "20"], env=run.env, capture_output=True, text=True, timeout=60, cwd=ROOT)
            print(logs.stdout[-6000:])
        return 1
    finally:
        run.cleanup()
    print("phases: " + ", ".join(f"{name} {took:.0f} s" for name, took in run.phases))
    print(f"PASS in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
