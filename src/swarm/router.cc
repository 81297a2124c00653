#include "swarm/router.h"

#include <algorithm>

#include "protocol/rules.h"

namespace llamanet::swarm {

namespace {

bool Offers(bool generation, bool embeddings, Service service) {
  return service == Service::kGeneration ? generation : embeddings;
}

}  // namespace

RouteDecision Router::Decide(const std::string& model, bool forwarded, const LocalState& local,
                             const std::vector<protocol::NodeRecord>& peers, Service service) const {
  const bool any = protocol::IsAnyModel(model);
  const bool serves_here = (any || model == local.model) && Offers(local.generation, local.embeddings, service);
  RouteDecision d;
  if (forwarded) {
    d.kind = serves_here ? RouteDecision::Kind::kLocal : RouteDecision::Kind::kNotFound;
    return d;
  }
  // A free slot here beats any hop; embeddings need none.
  if (serves_here && (service == Service::kEmbeddings || local.free_slots > 0)) return d;

  for (protocol::NodeRecord& p : Eligible(model, local, peers, service)) {
    // When this node could serve it too, a hop only pays off for a peer with a free slot.
    if (serves_here && protocol::FreeSlotsOf(p) == 0) continue;
    d.peers.push_back(std::move(p));
  }
  std::stable_sort(d.peers.begin(), d.peers.end(), [](const protocol::NodeRecord& a, const protocol::NodeRecord& b) {
    int32_t fa = protocol::FreeSlotsOf(a), fb = protocol::FreeSlotsOf(b);
    if ((fa > 0) != (fb > 0)) return fa > 0;
    int32_t busy_a = a.slots > 0 ? a.slots - a.free_slots : (a.load >= 1.0 ? 1 : 0);
    int32_t busy_b = b.slots > 0 ? b.slots - b.free_slots : (b.load >= 1.0 ? 1 : 0);
    if (busy_a != busy_b) return busy_a < busy_b;
    return a.tps > b.tps;
  });
  if (!d.peers.empty()) {
    d.kind = RouteDecision::Kind::kForward;
    d.local_fallback = serves_here;
  } else {
    d.kind = serves_here ? RouteDecision::Kind::kLocal : RouteDecision::Kind::kNotFound;
  }
  return d;
}

std::vector<protocol::NodeRecord> Router::Eligible(const std::string& model, const LocalState& local,
                                                   const std::vector<protocol::NodeRecord>& peers,
                                                   Service service) const {
  const bool any = protocol::IsAnyModel(model);
  std::vector<protocol::NodeRecord> out;
  for (const protocol::NodeRecord& p : peers) {
    if (p.node_id == local.node_id || Avoided(p.node_id) || (refused_ && refused_(p))) continue;
    if (!any && p.model != model) continue;
    if (!Offers(p.generation, p.embeddings, service)) continue;
    out.push_back(p);
  }
  return out;
}

void Router::MarkRefused(const std::string& node_id) {
  std::lock_guard<std::mutex> lock(mu_);
  const Clock::time_point now = Clock::now();
  for (auto it = avoid_until_.begin(); it != avoid_until_.end();) {
    it = now >= it->second ? avoid_until_.erase(it) : std::next(it);
  }
  avoid_until_[node_id] = now + avoid_;
}

bool Router::Avoided(const std::string& node_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = avoid_until_.find(node_id);
  return it != avoid_until_.end() && Clock::now() < it->second;
}

}  // namespace llamanet::swarm
