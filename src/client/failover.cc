#include "client/failover.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <map>
#include <unordered_set>

#include "client/status_util.h"
#include "core/log.h"
#include "protocol/rules.h"

namespace llamanet::client {

std::chrono::milliseconds Failover::Backoff(int retry, double u, std::chrono::milliseconds initial,
                                            std::chrono::milliseconds max) {
  const double d = std::min(static_cast<double>(initial.count()) * std::ldexp(1.0, std::max(retry - 1, 0)),
                            static_cast<double>(max.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(d / 2 + std::clamp(u, 0.0, 1.0) * d / 2));
}

Status Failover::NoNode(const std::string& why) const {
  std::string what = "no node available";
  if (!protocol::IsAnyModel(options_.criteria.model)) what += " for model '" + options_.criteria.model + "'";
  return Status::NotFound(what + ": " + why);
}

void Failover::NoteRelaxed(bool relaxed, size_t count) {
  if (!relaxed) {
    relaxed_said_ = false;
    return;
  }
  if (relaxed_said_.exchange(true)) return;
  LN_WARN << "client: no node meets min_tps " << options_.criteria.min_tps << " and max_load "
          << options_.criteria.max_load << "; choosing among all " << count << " nodes";
}

NodeInfo Failover::Choose(std::vector<NodeInfo> candidates, const Call& call) {
  // Nodes that failed lately only when no other is left.
  std::vector<NodeInfo> healthy;
  for (const NodeInfo& n : candidates) {
    if (!health_.Avoided(n.node_id)) healthy.push_back(n);
  }
  std::vector<NodeInfo>& pool = healthy.empty() ? candidates : healthy;
  if (call.conversation != 0 && pool.size() >= 2) return ChooseForConversation(pool, call.conversation);
  auto load = [this](const NodeInfo& n) { return health_.EffectiveLoad(n); };
  RankNodes(pool, load);
  std::lock_guard<std::mutex> lock(rng_mu_);
  return pool[ChooseTwo(pool, options_.candidate_pool, load, rng_)];
}

NodeInfo Failover::ChooseForConversation(const std::vector<NodeInfo>& pool, uint64_t conversation) {
  std::map<std::string, const NodeInfo*> by_id;
  std::vector<std::string> ids;
  for (const NodeInfo& n : pool) {
    if (by_id.emplace(n.node_id, &n).second) ids.push_back(n.node_id);
  }
  std::vector<std::string> ranked = protocol::RendezvousRank(conversation, std::move(ids));
  if (ranked.size() > protocol::kAffinityCandidates) ranked.resize(protocol::kAffinityCandidates);
  std::vector<std::future<protocol::CacheReport>> asked;
  for (const std::string& id : ranked) {
    asked.push_back(std::async(std::launch::async, [this, conversation, node = by_id.at(id)] {
      Result<protocol::CacheReport> r = transport_.AskCache(*node, conversation);
      // A node that cannot say counts with its record: nothing cached, its free slots if known.
      if (!r.ok()) return protocol::CacheReport{node->node_id, 0, node->slots > 0 ? node->free_slots : 1};
      return *r;
    }));
  }
  std::vector<protocol::CacheReport> reports;
  for (auto& f : asked) reports.push_back(f.get());
  return *by_id.at(reports[protocol::ChooseForConversation(reports)].node_id);
}

Result<Completion> Failover::Run(const Call& call, const TextSink& on_text) {
  std::vector<Attempt> attempts;
  std::unordered_set<std::string> tried;
  bool refresh = false;    // read the DHT again before the next choice
  bool refreshed = false;  // once per request, when every candidate has been tried
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  while (static_cast<int>(attempts.size()) < options_.max_attempts) {
    Result<std::vector<NodeInfo>> view = source_.Nodes(refresh);
    if (!view.ok()) {
      if (view.status().code() == Status::Code::kCancelled) return view.status();
      if (attempts.empty()) return NoNode(view.status().message());
      break;
    }
    Candidates c = FilterNodes(*view, options_.criteria);
    std::erase_if(c.nodes, [&](const NodeInfo& n) { return tried.count(n.node_id) > 0; });
    if (c.nodes.empty()) {
      if (refreshed) break;
      refresh = refreshed = true;
      continue;
    }
    refresh = false;
    NoteRelaxed(c.relaxed, c.nodes.size());
    const NodeInfo node = Choose(c.nodes, call);

    health_.Begin(node.node_id);
    AttemptResult r = transport_.Send(node, call, on_text);
    health_.End(node.node_id);
    attempts.push_back(Attempt{node.node_id, node.address(), r.status});
    if (r.status.ok()) {
      Completion done = std::move(r.completion);
      done.attempts = std::move(attempts);
      done.filters_relaxed = c.relaxed;
      return done;
    }
    if (r.delivered || !protocol::TryAnotherNode(r.status.code())) return r.status;
    health_.MarkFailed(node.node_id);
    tried.insert(node.node_id);
    if (static_cast<int>(attempts.size()) >= options_.max_attempts) break;
    LN_INFO << "client: " << r.status.message() << "; trying another node";
    double u;
    {
      std::lock_guard<std::mutex> lock(rng_mu_);
      u = unit(rng_);
    }
    const int retry = static_cast<int>(attempts.size());
    if (!sleep_(Backoff(retry, u, options_.backoff_initial, options_.backoff_max))) {
      return Status::Cancelled("the client is closed");
    }
  }
  if (attempts.empty()) return NoNode(tried.empty() ? "the swarm lists no node" : "every node was tried");
  std::string message = "every node tried failed (" + std::to_string(attempts.size()) + "):";
  for (const Attempt& a : attempts) message += " [" + a.status.message() + "]";
  return WithMessage(attempts.back().status, std::move(message));
}

}  // namespace llamanet::client
