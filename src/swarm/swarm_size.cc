#include "swarm/swarm_size.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>

namespace llamanet::swarm {
namespace {

// The top 64 bits of a hex id, as a number (the rest changes an estimate by less than 1e-9).
std::optional<uint64_t> Top64(const std::string& hex) {
  uint64_t v = 0;
  for (size_t i = 0; i < 16; ++i) {
    const char c = i < hex.size() ? hex[i] : '0';
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace

SwarmSize EstimateSwarmSize(const std::string& self, const std::vector<std::string>& contacts, size_t k) {
  std::optional<uint64_t> me = Top64(self);
  std::vector<double> distances;  // as shares of the id space
  for (const std::string& c : contacts) {
    std::optional<uint64_t> id = Top64(c);
    if (!me || !id || c.size() != self.size() || *id == *me) continue;
    distances.push_back(std::ldexp(static_cast<double>(*id ^ *me), -64));
  }
  if (distances.size() < k || k == 0) return SwarmSize{distances.size() + 1, false};
  std::sort(distances.begin(), distances.end());
  // With n nodes spread evenly, the j-th closest lies at about j / n of the space, so the k
  // closest add up to k(k+1)/2n: a sum, which one unusually close node barely moves.
  double sum = 0;
  for (size_t j = 0; j < k; ++j) sum += distances[j];
  const double n = static_cast<double>(k * (k + 1)) / 2 / sum;
  return SwarmSize{std::max(distances.size() + 1, static_cast<size_t>(std::llround(n))), true};
}

SwarmSize EstimateSwarmSize(const dht::DhtSnapshot& snapshot, size_t k) {
  std::vector<std::string> contacts;
  for (const dht::DhtContact& c : snapshot.contacts) contacts.push_back(c.node_id);
  return EstimateSwarmSize(snapshot.node_id, contacts, k);
}

size_t CachedSwarmSize::Nodes() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_.NowMs();
  if (!nodes_ || now - read_ms_ >= every_ms_) {
    nodes_ = EstimateSwarmSize(dht_.Snapshot()).nodes;
    read_ms_ = now;
  }
  return *nodes_;
}

}  // namespace llamanet::swarm
