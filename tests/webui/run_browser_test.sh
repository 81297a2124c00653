#!/usr/bin/env bash
# The web UI in Debian's chromium against a real llamanet-node, started on 127.0.0.1 and a
# free port (by tests/openai/with_node.sh, which stops that node, by its PID, afterwards).
#
#   run_browser_test.sh NODE_BIN MODEL [SCREENSHOT]
#
# SCREENSHOT (default: $TMPDIR/llamanet-webui.png) gets the chat view, with -network.png and
# -phone.png and -tools.png beside it. Exits 77 (skipped) when chromium, node or playwright-core is missing:
# apt-get install chromium; npm ci --prefix tests/webui.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 2 ]; then
  echo "usage: $0 NODE_BIN MODEL [SCREENSHOT]" >&2
  exit 2
fi
node_bin=$1
model=$2
export WEBUI_SCREENSHOT=${3:-${TMPDIR:-/tmp}/llamanet-webui.png}
export CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium || true)}

if [ -z "$CHROMIUM_PATH" ]; then
  echo "FAIL (a tool this test needs is missing; scripts/install-deps.sh installs it): chromium is not installed (apt-get install chromium)"
  exit 1
fi
if ! command -v node >/dev/null; then
  echo "FAIL (a tool this test needs is missing; scripts/install-deps.sh installs it): node is not installed (apt-get install nodejs)"
  exit 1
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  echo "FAIL (a tool this test needs is missing; scripts/install-deps.sh installs it): playwright-core is not installed (npm ci --prefix tests/webui)"
  exit 1
fi

# --n-ctx 2048: the chats ask for 256-token answers, and the native API's prompt holds the
# history, an earlier answer included.
"$here/../openai/with_node.sh" "$node_bin" "$model" --threads 1 --parallel 2 --n-ctx 2048 --node-id webui-test \
  -- node "$here/browser.test.mjs"
rc=$?
[ "$rc" -eq 0 ] && echo "screenshots: ${WEBUI_SCREENSHOT%.png}{,-network,-phone,-tools}.png"
exit "$rc"
