// Decides where a request runs: here, or on the best peer for its model (one hop at most).
// Pure decision logic over the swarm view; the proxy (proxy.h) carries a forwarded request.
// Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "protocol/node_record.h"

namespace llamanet::swarm {

// What a request asks a node for: a record says which a node offers (`generation`,
// `embeddings`).
enum class Service { kGeneration, kEmbeddings };

struct LocalState {
  std::string node_id;
  std::string model;
  int32_t free_slots = 0;
  bool generation = true;
  bool embeddings = false;
};

struct RouteDecision {
  enum class Kind {
    kLocal,     // serve here
    kForward,   // try `peers` in order; serve here if all fail and local_fallback
    kNotFound,  // no node serves the model
  };
  Kind kind = Kind::kLocal;
  std::vector<protocol::NodeRecord> peers;
  bool local_fallback = false;
};

class Router {
 public:
  using Clock = std::chrono::steady_clock;
  // Whether a peer must not get requests now (its address failed verification, or it stopped
  // answering: see PeerVerifier::Refused).
  using RefusedPeer = std::function<bool(const protocol::NodeRecord&)>;

  explicit Router(std::chrono::seconds avoid_after_refusal = std::chrono::seconds(10), RefusedPeer refused = nullptr)
      : avoid_(avoid_after_refusal), refused_(std::move(refused)) {}

  // `model` empty or "llamanet" means any model. `forwarded` requests are never forwarded
  // again. `peers` is the live swarm (this node may be among them; it is skipped), less the
  // peers that are avoided or refused. Embeddings are served here whenever this node offers
  // them for the model (they take no slot), else by a peer offering them.
  RouteDecision Decide(const std::string& model, bool forwarded, const LocalState& local,
                       const std::vector<protocol::NodeRecord>& peers, Service service = Service::kGeneration) const;
  // The peers that may serve `model` now, free or not: not this node, not avoided or refused,
  // offering `service`.
  std::vector<protocol::NodeRecord> Eligible(const std::string& model, const LocalState& local,
                                             const std::vector<protocol::NodeRecord>& peers,
                                             Service service = Service::kGeneration) const;

  // A peer that answered a forwarded request with a refusal (5xx, 429, 401, 403) is avoided for
  // a while. One that did not answer at all is the verifier's (MarkDown).
  void MarkRefused(const std::string& node_id);
  bool Avoided(const std::string& node_id) const;

 private:
  std::chrono::seconds avoid_;
  RefusedPeer refused_;
  mutable std::mutex mu_;
  std::map<std::string, Clock::time_point> avoid_until_;  // guarded by mu_
};

}  // namespace llamanet::swarm
