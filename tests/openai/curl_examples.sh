#!/usr/bin/env bash
# The curl examples of the README, run as they are written against a live node. By hand:
#   LLAMANET_BASE_URL=http://localhost:8000 tests/openai/curl_examples.sh
# CTest runs it through with_node.sh; each example's answer is checked.
set -euo pipefail
command -v curl >/dev/null || { echo "FAIL (a tool this test needs is missing; scripts/install-deps.sh installs it): curl is not installed"; exit 1; }
BASE=${LLAMANET_BASE_URL:-http://localhost:8000}

check() {  # check WHAT PATTERN TEXT: the example's answer must contain PATTERN
  if ! grep -q -- "$2" <<<"$3"; then
    echo "FAIL: $1: no '$2' in: $3" >&2
    exit 1
  fi
  echo "ok: $1"
}

# --- README: OpenAI-compatible API ---

# The models this node serves
models=$(curl -sS "$BASE/v1/models")
check "models" '"object":"list"' "$models"

# A completion
completion=$(curl -sS "$BASE/v1/completions" -H 'Content-Type: application/json' -d '{
  "model": "llamanet",
  "prompt": "The capital of France is",
  "max_tokens": 16,
  "temperature": 0.7
}')
check "completion" '"object":"text_completion"' "$completion"
check "completion usage" '"completion_tokens":' "$completion"

# A chat completion (the model's own chat template applies)
chat=$(curl -sS "$BASE/v1/chat/completions" -H 'Content-Type: application/json' -d '{
  "model": "llamanet",
  "messages": [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is a DHT?"}
  ],
  "max_tokens": 32
}')
check "chat" '"role":"assistant"' "$chat"

# Streaming: Server-Sent Events, ending with data: [DONE]
stream=$(curl -sS -N "$BASE/v1/chat/completions" -H 'Content-Type: application/json' -d '{
  "messages": [{"role": "user", "content": "Count to five"}],
  "max_tokens": 24,
  "stream": true,
  "stream_options": {"include_usage": true}
}')
check "stream chunks" '"object":"chat.completion.chunk"' "$stream"
check "stream end" 'data: \[DONE\]' "$stream"

# Structured output: the answer follows a JSON schema
structured=$(curl -sS "$BASE/v1/chat/completions" -H 'Content-Type: application/json' -d '{
  "messages": [{"role": "user", "content": "Is water wet?"}],
  "max_tokens": 64,
  "response_format": {"type": "json_schema", "json_schema": {"name": "verdict", "strict": true,
    "schema": {"type": "object", "properties": {"wet": {"type": "boolean"}}, "required": ["wet"]}}}
}')
check "structured" '"content":"{' "$structured"

# A forced tool call
tool=$(curl -sS "$BASE/v1/chat/completions" -H 'Content-Type: application/json' -d '{
  "messages": [{"role": "user", "content": "Weather in Oslo?"}],
  "max_tokens": 300,
  "tools": [{"type": "function", "function": {"name": "get_weather",
    "parameters": {"type": "object", "properties": {"unit": {"type": "string", "enum": ["C", "F"]}}, "required": ["unit"]}}}],
  "tool_choice": "required",
  "parallel_tool_calls": false
}')
check "tool call" '"finish_reason":"tool_calls"' "$tool"

# Embeddings: one unit-length vector per input
embeddings=$(curl -sS "$BASE/v1/embeddings" -H 'Content-Type: application/json' -d '{
  "model": "llamanet",
  "input": ["The capital of France is Paris", "What is a DHT?"]
}')
check "embeddings" '"object":"embedding"' "$embeddings"

# Errors come in OpenAI's shape
error=$(curl -sS "$BASE/v1/completions" -H 'Content-Type: application/json' -d '{"prompt": "x", "model": "gpt-4"}')
check "error" '"code":"model_not_found"' "$error"

# Prometheus metrics
metrics=$(curl -sS "$BASE/metrics")
check "metrics" 'llamanet_http_requests_total{route="/v1/completions",status="200"}' "$metrics"
