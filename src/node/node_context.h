// What the HTTP routes of one node share: its configuration, identity, engine and state.
// Built once at start-up; the routes only read it (the atomics change while running).
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "engine/engine.h"
#include "node/config.h"
#include "node/metrics.h"

namespace llamanet::node {

class Swarm;

struct NodeContext {
  NodeConfig config;
  std::string node_id;
  engine::Engine* engine = nullptr;
  NodeMetrics* metrics = nullptr;  // owned by the Node
  Swarm* swarm = nullptr;          // owned by the Node; null in tests without a swarm
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<bool> running{true};  // false once shutdown began: new work is refused
  std::atomic<uint64_t> next_request{1};

  double UptimeSeconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  // "<node_id>-<n>": names a request in logs and in the X-Request-Id header.
  std::string NewRequestId() { return node_id + "-" + std::to_string(next_request.fetch_add(1)); }
};

}  // namespace llamanet::node
