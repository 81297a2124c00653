// The value types of the client API (client.h): what the swarm says about a node, what a
// request asks for, and what comes back. All are plain values, safe to copy and move.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llamanet/status.h"

namespace llamanet {

// One node as its DHT record describes it (PROTOCOL.md section 3). Records of older Python
// nodes lack the fields from `slots` on: they keep the defaults below.
struct NodeInfo {
  std::string node_id;
  std::string ip;  // the node's advertised HTTP address
  int32_t port = 0;  // HTTP
  std::string model;
  double load = 0;       // busy fraction of slots, 0..1
  double tps = 0;        // recent generation speed of one request, tokens/s (0: not measured)
  double uptime = 0;     // seconds
  double last_seen = 0;  // epoch seconds of the record
  int32_t dht_port = 0;
  int32_t slots = 0;       // 0: unknown
  int32_t free_slots = 0;  // meaningful when slots > 0
  int32_t queue = 0;       // requests waiting for a slot
  int32_t n_ctx = 0;
  std::string model_sha256;
  std::string version;
  bool generation = true;   // false: an embeddings-only node, never sent a generation
  bool embeddings = false;  // serves POST /v1/embeddings

  // "ip:port" ("[ip]:port" for IPv6).
  std::string address() const;
};

// Sampling settings shared by every kind of request; the defaults are the older client's.
struct SamplingParams {
  int32_t max_tokens = 100;
  double temperature = 0.7;
  double top_p = 0.9;
  std::vector<std::string> stop;  // at most 4 strings (OpenAI's limit)
  std::optional<int64_t> seed;
};

struct GenerateRequest {
  std::string prompt;
  SamplingParams params;
};

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  SamplingParams params;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
  int64_t cached_tokens = 0;  // prompt tokens the node's prefix cache held (prompt_tokens_details)
};

// One node tried for a request.
struct Attempt {
  std::string node_id;
  std::string address;  // "ip:port"
  Status status;        // OK for the attempt that answered
};

struct Completion {
  std::string text;           // the whole answer (for streams: every piece, concatenated)
  std::string finish_reason;  // "stop" or "length"
  std::string model;          // as the node named it
  std::string id;             // the node's "cmpl-..." / "chatcmpl-..." id
  Usage usage;
  std::string node_id;        // the node that served it (its X-LlamaNet-Node header)
  std::vector<Attempt> attempts;  // every node tried, in order; the last one answered
  // True when no node met min_tps/max_load and the client chose among all the model's nodes.
  bool filters_relaxed = false;
};

// What GET /status and GET /health of one node say.
struct NodeStatus {
  std::string node_id;  // its X-LlamaNet-Node header
  std::string address;  // "host:port" asked
  bool healthy = false;
  std::string model;
  double uptime = 0;
  double load = 0;
  double tps = 0;
  int64_t total_tokens = 0;
  std::string status_json;  // the /status body as the node sent it (compact JSON)
  std::string health_json;  // the /health body (compact JSON)
};

}  // namespace llamanet
