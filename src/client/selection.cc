#include "client/selection.h"

#include <algorithm>
#include <cassert>

#include "protocol/rules.h"

namespace llamanet::client {

Candidates FilterNodes(const std::vector<NodeInfo>& nodes, const SelectionCriteria& criteria) {
  const bool any = protocol::IsAnyModel(criteria.model);
  Candidates out;
  std::vector<NodeInfo> of_model;
  for (const NodeInfo& n : nodes) {
    if (!any && n.model != criteria.model) continue;
    if (!n.generation) continue;  // the client only generates
    of_model.push_back(n);
    const bool fast_enough = n.tps == 0 || n.tps >= criteria.min_tps;
    if (fast_enough && n.load <= criteria.max_load) out.nodes.push_back(n);
  }
  if (out.nodes.empty() && !of_model.empty()) {
    out.nodes = std::move(of_model);
    out.relaxed = true;
  }
  return out;
}

void RankNodes(std::vector<NodeInfo>& nodes, const LoadFn& load) {
  std::vector<std::pair<double, NodeInfo>> keyed;
  keyed.reserve(nodes.size());
  for (NodeInfo& n : nodes) {
    double l = load(n);
    keyed.emplace_back(l, std::move(n));
  }
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    if (a.second.tps != b.second.tps) return a.second.tps > b.second.tps;
    return a.second.node_id < b.second.node_id;
  });
  nodes.clear();
  for (auto& [l, n] : keyed) nodes.push_back(std::move(n));
}

size_t ChooseTwo(const std::vector<NodeInfo>& ranked, size_t pool, const LoadFn& load, std::mt19937_64& rng) {
  assert(!ranked.empty());
  const size_t n = std::min(ranked.size(), std::max<size_t>(pool, 2));
  if (n == 1) return 0;
  std::uniform_int_distribution<size_t> first(0, n - 1), second(0, n - 2);
  const size_t a = first(rng);
  size_t b = second(rng);
  if (b >= a) ++b;  // distinct from a, uniform over the rest
  const double la = load(ranked[a]), lb = load(ranked[b]);
  if (la != lb) return la < lb ? a : b;
  return ranked[b].tps > ranked[a].tps ? b : a;
}

}  // namespace llamanet::client
