// How many nodes the swarm has, from this node's routing table alone (no datagram): Kademlia
// fills a table with the k nodes closest to its own id, and the denser the swarm, the closer
// they are. For /nodes and the web UI, which list only a sample of a large swarm.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

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

}  // namespace llamanet::swarm
