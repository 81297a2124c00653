#include "dht/routing_table.h"

#include <algorithm>

namespace llamanet::dht {
namespace {
constexpr int64_t kQuietBeforePingMs = 60'000;
}  // namespace

RoutingTable::RoutingTable(NodeId self, size_t k, int max_failures, RoutingLimits limits)
    : self_(self), k_(k), max_failures_(max_failures), limits_(std::move(limits)) {
  for (const std::string& ip : limits_.local_addresses) {
    if (std::string subnet = SubnetOf(ip); !subnet.empty()) local_subnets_.insert(std::move(subnet));
  }
}

bool RoutingTable::IsLocal(const std::string& ip, const std::string& subnet) const {
  return IsLoopback(ip) || local_subnets_.count(subnet) != 0;
}

bool RoutingTable::Admits(const std::string& ip) const {
  const std::string subnet = SubnetOf(ip);
  const bool local = IsLocal(ip, subnet);
  const size_t ip_cap = local ? limits_.max_per_local_network : limits_.max_per_ip;
  const size_t subnet_cap = local ? limits_.max_per_local_network : limits_.max_per_subnet;
  auto at_ip = per_ip_.find(ip);
  auto at_subnet = per_subnet_.find(subnet);
  return (at_ip == per_ip_.end() || at_ip->second < ip_cap) &&
         (at_subnet == per_subnet_.end() || at_subnet->second < subnet_cap);
}

void RoutingTable::Count(const Endpoint& e, int delta) {
  for (auto [map, key] : {std::pair{&per_ip_, e.ip}, std::pair{&per_subnet_, SubnetOf(e.ip)}}) {
    size_t& n = (*map)[key];
    n = delta > 0 ? n + 1 : n - 1;
    if (n == 0) map->erase(key);
  }
}

size_t RoutingTable::CountAt(const std::string& ip) const {
  auto it = per_ip_.find(ip);
  return it == per_ip_.end() ? 0 : it->second;
}

std::vector<Contact>::iterator RoutingTable::FindIn(std::vector<Contact>& list, const NodeId& id) {
  return std::find_if(list.begin(), list.end(), [&](const Contact& c) { return c.id == id; });
}

RoutingTable::HeardResult RoutingTable::Heard(const NodeId& id, const Endpoint& from, int64_t now_ms) {
  HeardResult result;
  const int bit = self_.DistanceBit(id);
  if (bit < 0) return result;  // ourselves
  auto [bucket_it, created] = buckets_.try_emplace(bit);
  Bucket& b = bucket_it->second;
  if (created) b.refreshed_ms = now_ms;
  if (auto it = FindIn(b.live, id); it != b.live.end()) {
    if (it->endpoint != from && it->failures == 0) return result;  // keep a working address
    if (it->endpoint != from) {
      Count(it->endpoint, -1);
      if (!Admits(from.ip)) {
        Count(it->endpoint, +1);
        result.refused = true;
        return result;
      }
      Count(from, +1);
    }
    Contact c = *it;
    c.endpoint = from;
    c.last_seen_ms = now_ms;
    c.failures = 0;
    c.pinging = false;
    b.live.erase(it);
    b.live.push_back(std::move(c));
    return result;
  }
  if (auto it = FindIn(b.replacements, id); it != b.replacements.end()) {
    Count(it->endpoint, -1);
    b.replacements.erase(it);
  }
  if (!Admits(from.ip)) {
    result.refused = true;
    if (b.live.empty() && b.replacements.empty()) buckets_.erase(bucket_it);
    return result;
  }
  Count(from, +1);
  Contact fresh{id, from, now_ms, 0, false};
  if (b.live.size() < k_) {
    b.live.push_back(std::move(fresh));
    ++size_;
    result.added = true;
    return result;
  }
  b.replacements.push_back(std::move(fresh));
  if (b.replacements.size() > k_) {
    Count(b.replacements.front().endpoint, -1);
    b.replacements.erase(b.replacements.begin());
  }
  // Ping-before-evict only for a contact we have not heard from lately: one that spoke a
  // minute ago is alive, and pinging it for every newcomer to a full bucket cost a node of a
  // busy 1,000-node swarm ~4 datagrams/s (bench/swarm).
  Contact& oldest = b.live.front();
  if (!oldest.pinging && now_ms - oldest.last_seen_ms >= kQuietBeforePingMs) {
    oldest.pinging = true;
    result.ping = oldest;
  }
  return result;
}

bool RoutingTable::Failed(const NodeId& id) {
  const int bit = self_.DistanceBit(id);
  auto bucket_it = buckets_.find(bit);
  if (bucket_it == buckets_.end()) return false;
  Bucket& b = bucket_it->second;
  auto it = FindIn(b.live, id);
  if (it == b.live.end()) {
    if (auto r = FindIn(b.replacements, id); r != b.replacements.end()) {
      Count(r->endpoint, -1);
      b.replacements.erase(r);
    }
    return false;
  }
  it->pinging = false;
  if (++it->failures < max_failures_ && b.replacements.empty()) return false;
  Count(it->endpoint, -1);
  b.live.erase(it);
  --size_;
  if (!b.replacements.empty()) {
    Contact promoted = std::move(b.replacements.back());
    b.replacements.pop_back();
    auto pos = std::find_if(b.live.begin(), b.live.end(),
                            [&](const Contact& c) { return c.last_seen_ms > promoted.last_seen_ms; });
    b.live.insert(pos, std::move(promoted));
    ++size_;
  }
  if (b.live.empty() && b.replacements.empty()) buckets_.erase(bucket_it);
  return true;
}

std::vector<Contact> RoutingTable::Closest(const NodeId& target, size_t n) const {
  std::vector<Contact> all = Contacts();
  auto closer = [&](const Contact& a, const Contact& b) { return NodeId::Closer(target, a.id, b.id); };
  if (all.size() > n) {
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), closer);
    all.resize(n);
  } else {
    std::sort(all.begin(), all.end(), closer);
  }
  return all;
}

std::optional<Contact> RoutingTable::Find(const NodeId& id) const {
  auto bucket_it = buckets_.find(self_.DistanceBit(id));
  if (bucket_it == buckets_.end()) return std::nullopt;
  for (const Contact& c : bucket_it->second.live) {
    if (c.id == id) return c;
  }
  return std::nullopt;
}

std::vector<Contact> RoutingTable::Contacts() const {
  std::vector<Contact> all;
  all.reserve(size_);
  for (const auto& [bit, b] : buckets_) all.insert(all.end(), b.live.begin(), b.live.end());
  return all;
}

std::vector<NodeId> RoutingTable::RefreshTargets(int64_t now_ms, int64_t interval_ms, std::mt19937_64& rng) {
  std::vector<NodeId> targets;
  for (auto& [bit, b] : buckets_) {
    if (b.live.empty() || now_ms - b.refreshed_ms < interval_ms) continue;
    b.refreshed_ms = now_ms;
    targets.push_back(self_.RandomAtDistanceBit(bit, rng));
  }
  return targets;
}

void RoutingTable::Touched(const NodeId& target, int64_t now_ms) {
  auto it = buckets_.find(self_.DistanceBit(target));
  if (it != buckets_.end()) it->second.refreshed_ms = now_ms;
}

std::optional<Contact> RoutingTable::TakeStalest(int64_t before_ms) {
  Contact* stalest = nullptr;
  for (auto& [bit, b] : buckets_) {
    for (Contact& c : b.live) {
      if (!c.pinging && c.last_seen_ms < before_ms && (stalest == nullptr || c.last_seen_ms < stalest->last_seen_ms)) {
        stalest = &c;
      }
    }
  }
  if (stalest == nullptr) return std::nullopt;
  stalest->pinging = true;
  return *stalest;
}

}  // namespace llamanet::dht
