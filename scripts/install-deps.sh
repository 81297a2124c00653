#!/usr/bin/env bash
# Installs what building and testing LlamaNet needs on Debian 12 / Ubuntu 22.04 or newer.
# Idempotent; run as root or with sudo available.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  build-essential cmake ninja-build pkg-config ccache git curl ca-certificates
  libcpp-httplib-dev nlohmann-json3-dev libasio-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3
  clang libclang-rt-14-dev   # the DHT fuzz target (libFuzzer)
  prometheus                 # promtool, to check /metrics
  chromium                   # the web UI's browser test
  iproute2                   # the network-namespace swarm test
  podman runc mmdebstrap docker-compose      # the container test (tests/container)
  containernetworking-plugins iptables       # podman's bridge networks and published ports
  golang-github-containernetworking-plugin-dnsname  # compose service names in those networks
)
# A Node.js of our own is kept when present (the OpenAI SDK tests want node >= 20); npm
# fetches the llama.cpp source bundle and the web UI and test libraries.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The test suites' npm packages (the OpenAI SDK, playwright-core, dockerfile-utils), pinned by
# their lock files.
root="$(cd "$(dirname "$0")/.." && pwd)"
for dir in tests/openai tests/webui tests/container; do
  if [ ! -d "$root/$dir/node_modules" ] || [ "$root/$dir/package-lock.json" -nt "$root/$dir/node_modules" ]; then
    (cd "$root/$dir" && npm ci --no-audit --no-fund --silent)
    touch "$root/$dir/node_modules"
  fi
done
echo "dependencies are installed"
