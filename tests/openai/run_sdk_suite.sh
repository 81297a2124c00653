#!/usr/bin/env bash
# The official OpenAI SDK (npm `openai` 6.x, on node 20+) against a llamanet-node: CTest runs
# this with the node binary and the tiny model. Exits 77 (skipped) when node or the SDK is
# missing; install the SDK with `npm ci --prefix tests/openai`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
node_bin=$1
model=$2

if ! command -v node >/dev/null; then
  echo "FAIL (a tool this test needs is missing; scripts/install-deps.sh installs it): node is not installed (apt-get install nodejs)"
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "FAIL (a tool this test needs is missing; scripts/install-deps.sh installs it): node $(node --version) is older than 20"
  exit 1
fi
if [ ! -f "$here/node_modules/openai/package.json" ]; then
  echo "FAIL (a tool this test needs is missing; scripts/install-deps.sh installs it): the openai SDK is not installed (npm ci --prefix tests/openai)"
  exit 1
fi

export LLAMANET_API_KEY=conformance-key
# Two slots and no queue: the suite fills both to get a 429.
exec "$here/with_node.sh" "$node_bin" "$model" --parallel 2 --max-queue 0 --n-ctx 2048 --threads 1 \
  --node-id sdk-test -- node --test "$here/conformance.test.mjs"
