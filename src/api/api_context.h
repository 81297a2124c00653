// What the HTTP routes of one node share: who it is, its engine and metrics, the swarm it is in
// and the few settings the routes report. Filled once by the node before it serves; the routes
// only read it (the atomics change while running).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "api/metrics.h"
#include "engine/embedder.h"
#include "engine/engine.h"

namespace llamanet::swarm {
class Swarm;
}

namespace llamanet::api {

struct ApiContext {
  std::string node_id;
  engine::Engine* engine = nullptr;
  engine::Embedder* embedder = nullptr;  // null when this node serves no embeddings
  NodeMetrics* metrics = nullptr;
  swarm::Swarm* swarm = nullptr;  // null in tests without a swarm
  std::string model_path;         // for /info
  int32_t dht_port = 0;           // for /info when there is no swarm
  int32_t heartbeat_interval = 10;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<bool> running{true};  // false once shutdown began: new work is refused
  std::atomic<uint64_t> next_request{1};

  double UptimeSeconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  // "<node_id>-<n>": names a request in logs and in the X-Request-Id header.
  std::string NewRequestId() { return node_id + "-" + std::to_string(next_request.fetch_add(1)); }
};

}  // namespace llamanet::api
