#!/bin/bash
# The image's HEALTHCHECK: GET /health on the node's own HTTP port answers 200. Plain bash
# (/dev/tcp), because the slim runtime image has no curl.
set -euo pipefail
host=${HOST:-0.0.0.0}
case "$host" in 0.0.0.0 | "" ) host=127.0.0.1 ;; :: | "[::]" ) host=::1 ;; esac
exec 3<>"/dev/tcp/$host/${PORT:-8000}"
printf 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r -t 3 _ code _ <&3
[ "$code" = 200 ]
