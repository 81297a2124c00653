#include "client/node_health.h"

#include <algorithm>

namespace llamanet::client {

void NodeHealth::MarkFailed(const std::string& node_id) {
  const Clock::time_point until = now_() + avoid_;
  std::lock_guard<std::mutex> lock(mu_);
  // Forget expired entries here, so that the map stays as small as the set of failed nodes.
  const Clock::time_point now = until - avoid_;
  std::erase_if(avoid_until_, [now](const auto& e) { return e.second <= now; });
  avoid_until_[node_id] = until;
}

bool NodeHealth::Avoided(const std::string& node_id) const {
  const Clock::time_point now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = avoid_until_.find(node_id);
  return it != avoid_until_.end() && now < it->second;
}

void NodeHealth::Begin(const std::string& node_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ++in_flight_[node_id];
}

void NodeHealth::End(const std::string& node_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = in_flight_.find(node_id);
  if (it != in_flight_.end() && --it->second <= 0) in_flight_.erase(it);
}

int NodeHealth::InFlight(const std::string& node_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = in_flight_.find(node_id);
  return it == in_flight_.end() ? 0 : it->second;
}

double NodeHealth::EffectiveLoad(const NodeInfo& node) const {
  return node.load + static_cast<double>(InFlight(node.node_id)) / std::max(node.slots, 1);
}

}  // namespace llamanet::client
