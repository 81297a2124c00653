#!/usr/bin/env bash
# The container files pass their linters: `lint_test.sh compose` runs Debian's docker-compose
# `config -q` on docker/docker-compose.yml, `lint_test.sh dockerfile` runs dockerfile-utils
# (npm, pinned in tests/container/package-lock.json) on docker/Dockerfile and fails on any
# warning too. A missing tool fails the test.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }

case "${1:-}" in
  compose)
    command -v docker-compose >/dev/null ||
      fail "docker-compose is not installed (apt-get install docker-compose, or scripts/install-deps.sh)"
    # Only the file's own defaults: no variable from the caller's environment changes it.
    out=$(env -i PATH="$PATH" docker-compose -f "$root/docker/docker-compose.yml" config -q 2>&1) ||
      fail "docker-compose config -q: $out"
    [ -z "$out" ] || fail "docker-compose config -q warned: $out"
    ;;
  dockerfile)
    lint="$here/node_modules/.bin/dockerfile-utils"
    [ -x "$lint" ] || fail "dockerfile-utils is not installed (npm ci --prefix tests/container, or scripts/install-deps.sh)"
    command -v node >/dev/null || fail "node is not installed"
    out=$("$lint" lint --json "$root/docker/Dockerfile" 2>&1) || fail "dockerfile-utils: $out"
    [ "$out" = "[]" ] || fail "dockerfile-utils found problems: $out"
    ;;
  *)
    fail "usage: lint_test.sh compose|dockerfile"
    ;;
esac
echo "PASS"
