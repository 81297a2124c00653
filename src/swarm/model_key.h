// `model:<name>`, the key under which every node serving a model publishes its record and where
// routers sample the model's nodes (swarm/candidate_view.h). In a large swarm it is spread over a
// region of the id space (dht/spread.h): its publishers (publisher.cc) and its samplers must agree
// on the region, so both take it from here.
#pragma once

#include <cstddef>
#include <string>

#include "dht/spread.h"

namespace llamanet::swarm {

inline std::string ModelKey(const std::string& model) { return "model:" + model; }

// The nodes whose ids share the first 4 bits of sha1(key): about a sixteenth of the swarm, so the
// samples of every router, and the stores of every publisher, are shared by a number of storing
// nodes that grows with the swarm. In a swarm of a few hundred nodes it is no wider than the
// key's own k closest.
inline constexpr dht::Spread kModelKeyRegion{4};
// Above this many nodes (by each node's own estimate, swarm_size.h) publishers spread the key and
// samplers aim at its region. Estimates differ from node to node: a sampler whose read of the
// region comes up short reads the key's own closest nodes, which still hold a copy of each record.
inline constexpr size_t kModelKeySpreadAbove = 64;

}  // namespace llamanet::swarm
