// How many nodes the swarm has, from this node's routing table alone (no datagram): Kademlia
// fills a table with the k nodes closest to its own id, and the denser the swarm, the closer
// they are. For /nodes and the web UI, which list only a sample of a large swarm.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dht/clock.h"
#include "dht/dht_node.h"
#include "dht/dht_options.h"

namespace llamanet::swarm {

struct SwarmSize {
  size_t nodes = 1;
  bool estimated = false;  // false: the table holds fewer than k contacts, so every node
};

// `self` and `contacts` are DHT ids in hex, as wide as each other (others are skipped).
SwarmSize EstimateSwarmSize(const std::string& self, const std::vector<std::string>& contacts, size_t k = 20);
// The same from a node's snapshot (DhtNode::Snapshot): its id and its routing table.
SwarmSize EstimateSwarmSize(const dht::DhtSnapshot& snapshot, size_t k = 20);

// A node's estimate of the swarm's size, read again once `every` has passed (a snapshot waits
// for the DHT's loop, which a flood of datagrams may keep busy). Thread-safe.
class CachedSwarmSize {
 public:
  CachedSwarmSize(dht::DhtNode& dht, const dht::Clock& clock, std::chrono::milliseconds every)
      : dht_(dht), clock_(clock), every_ms_(every.count()) {}
  size_t Nodes();

 private:
  dht::DhtNode& dht_;
  const dht::Clock& clock_;
  const int64_t every_ms_;
  std::mutex mu_;
  std::optional<size_t> nodes_;  // guarded by mu_
  int64_t read_ms_ = 0;          // guarded by mu_
};

}  // namespace llamanet::swarm
