// Spread: where the records of a key that very many nodes publish and sample are placed. By
// default a key lives at the k nodes closest to sha1(key); for such a key those k nodes would
// carry the whole swarm. Spread places each publisher's copies around a random point of the
// region of ids that share the first `prefix_bits` bits of sha1(key) (about swarm / 2^prefix_bits
// nodes), drawn among the k closest of that point, and a sample heads for a random point of the
// region, so the key's storing nodes, and the load they take, grow with the swarm. With
// prefix_bits at the id's width the region is the key's own k closest nodes.
#pragma once

#include <random>
#include <string_view>

#include "dht/node_id.h"

namespace llamanet::dht {

struct Spread {
  int prefix_bits = NodeId::kBits;

  // The random point a publish or a sample of `key` heads for.
  NodeId Target(std::string_view key, std::mt19937_64& rng) const {
    return KeyTarget(key).RandomSharingPrefix(prefix_bits, rng);
  }
};

}  // namespace llamanet::dht
