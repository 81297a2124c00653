// What this client has learnt about nodes by using them: which failed recently (to be passed
// over for a while) and how many of its own requests each is serving right now (the load a
// node's record cannot show yet). Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "llamanet/types.h"

namespace llamanet::client {

class NodeHealth {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;

  explicit NodeHealth(std::chrono::milliseconds avoid_after_failure, NowFn now = Clock::now)
      : avoid_(avoid_after_failure), now_(std::move(now)) {}

  // The node failed a request: Avoided() for avoid_after_failure from now.
  void MarkFailed(const std::string& node_id);
  bool Avoided(const std::string& node_id) const;

  // Brackets one request of this client to the node.
  void Begin(const std::string& node_id);
  void End(const std::string& node_id);
  int InFlight(const std::string& node_id) const;

  // The node's reported load plus this client's requests in flight there, per slot (a node
  // that does not say its slots counts as one).
  double EffectiveLoad(const NodeInfo& node) const;

 private:
  const std::chrono::milliseconds avoid_;
  const NowFn now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Clock::time_point> avoid_until_;  // guarded by mu_
  std::unordered_map<std::string, int> in_flight_;                   // guarded by mu_; no zeros
};

}  // namespace llamanet::client
