#!/usr/bin/env bash
# The whole test suite: builds what is out of date, then runs every test with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --preset default -j2 --timeout 300
