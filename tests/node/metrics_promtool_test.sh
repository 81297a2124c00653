#!/usr/bin/env bash
# promtool (Debian's prometheus package) accepts what GET /metrics answers, after requests
# have filled every metric. Run inside tests/openai/with_node.sh; exits 77 (skipped) without
# promtool or curl.
set -u
for tool in promtool curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL (a tool this test needs is missing; scripts/install-deps.sh installs it): $tool is not installed (apt-get install prometheus curl)"
    exit 1
  fi
done
BASE=$LLAMANET_BASE_URL
curl -sS -o /dev/null "$BASE/v1/completions" -H 'Content-Type: application/json' -d '{"prompt":"a","max_tokens":4}'
curl -sS -o /dev/null "$BASE/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"messages":[{"role":"user","content":"a"}],"max_tokens":4,"stream":true}'
curl -sS -o /dev/null "$BASE/generate" -H 'Content-Type: application/json' -d '{"prompt":"a","max_tokens":2}'
curl -sS -o /dev/null "$BASE/v1/completions" -d 'not json'
curl -sS -o /dev/null "$BASE/nowhere"
metrics=$(curl -sS "$BASE/metrics")
for family in llamanet_http_requests_total llamanet_prompt_tokens_total llamanet_completion_tokens_total \
  llamanet_slots_busy llamanet_slots_capacity llamanet_queue_length llamanet_time_to_first_token_seconds_bucket \
  llamanet_token_latency_seconds_bucket llamanet_model_load_seconds; do
  if ! grep -q "^$family" <<<"$metrics"; then
    echo "FAIL: no $family in /metrics"
    exit 1
  fi
done
if ! out=$(promtool check metrics <<<"$metrics" 2>&1); then
  echo "FAIL: promtool check metrics:"
  echo "$out"
  exit 1
fi
echo "ok: promtool accepts /metrics ($(wc -l <<<"$metrics") lines)"
