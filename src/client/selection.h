// Choosing a node for a request: pure functions over a view of the swarm (no I/O, no
// clock), so that every rule has a unit test. The failover loop (failover.h) applies them
// attempt by attempt.
#pragma once

#include <cstddef>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "llamanet/types.h"

namespace llamanet::client {

struct SelectionCriteria {
  std::string model;  // empty or "llamanet": any (protocol::IsAnyModel)
  double min_tps = 0;
  double max_load = 1;
};

struct Candidates {
  std::vector<NodeInfo> nodes;
  // No node of the model met min_tps/max_load: `nodes` holds all of the model's nodes.
  bool relaxed = false;
};

// The nodes of the model that meet the criteria, in their order: load <= max_load, and
// tps >= min_tps unless tps is 0 (not measured yet: passes, as with the older client). When
// none meets them, every node of the model, with `relaxed` set.
Candidates FilterNodes(const std::vector<NodeInfo>& nodes, const SelectionCriteria& criteria);

// The load a choice compares: the node's own report, plus whatever the caller knows better
// (the client adds its own requests in flight there).
using LoadFn = std::function<double(const NodeInfo&)>;

// Best first: the lowest load, then the highest tps, then node_id (a stable order).
void RankNodes(std::vector<NodeInfo>& nodes, const LoadFn& load);

// Power of two choices: draws two distinct nodes among the first `pool` (at least 2) of
// `ranked` and returns the index of the one with the lower load (the higher tps on a tie,
// else the first drawn). REQUIRES: !ranked.empty().
size_t ChooseTwo(const std::vector<NodeInfo>& ranked, size_t pool, const LoadFn& load, std::mt19937_64& rng);

}  // namespace llamanet::client
