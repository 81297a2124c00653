// This node's membership of the swarm: its identity key, the DHT, the publisher of its
// record, its candidates per model and its directory of the swarm, and the router + proxy that
// send a request to the best node for its model. The HTTP routes that generate text are wrapped
// with Routed().
#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/status.h"
#include "dht/dht_node.h"
#include "dht/record_signing.h"
#include "swarm/cache_affinity.h"
#include "swarm/candidate_view.h"
#include "swarm/forward_auth.h"
#include "swarm/identity_proof.h"
#include "swarm/peer_verifier.h"
#include "swarm/swarm_options.h"
#include "swarm/proxy.h"
#include "swarm/publisher.h"
#include "swarm/router.h"
#include "swarm/swarm_size.h"
#include "swarm/swarm_view.h"

namespace llamanet::swarm {

// What this node is doing right now, for its record: read on every publish and every routing
// decision, so it must be cheap.
struct LocalNodeState {
  std::string model;
  int32_t n_ctx = 0;
  double uptime = 0;      // seconds
  int32_t slots = 0;
  int32_t busy = 0;
  int32_t queue = 0;
  int32_t conversations = 0;  // distinct conversations its prefix cache holds
  double tps = 0;
  bool accepting = true;  // false once the node is shutting down
  bool generation = true;  // false: embeddings only
  bool embeddings = false;
};

class Swarm {
 public:
  // Binds the DHT's UDP port. kUnavailable when it is taken.
  static Result<std::unique_ptr<Swarm>> Create(const SwarmOptions& options, const std::string& node_id,
                                               dht::IdentityKey key);
  ~Swarm();

  // How many prompt tokens of a conversation this node's engine holds (cache-aware routing).
  using CachedTokensFn = std::function<int32_t(uint64_t conversation)>;
  // Joins (bootstrap retried in the background), starts publishing and watching. `local` and
  // `cached` are called from the swarm's threads and request threads until Leave() returns.
  Status Start(std::function<LocalNodeState()> local, CachedTokensFn cached, int32_t http_port);
  // Publishes tombstones (waiting up to `timeout` for them to be stored), then stops the
  // publisher, the view and the DHT. Idempotent: a second call does nothing.
  void Leave(std::chrono::milliseconds timeout);

  // Wraps a route that runs the model (generation or embeddings): serves it here, forwards it
  // to a peer offering `service` for the model, or answers 404 model_not_found.
  httplib::Server::Handler Routed(httplib::Server::Handler local, bool openai_errors,
                                  Service service = Service::kGeneration);

  // This node's answer to GET /identity?nonce=... (identity_proof.h).
  Result<IdentityProof> ProveIdentity(const std::string& nonce) const;
  // Whether `req` carries a valid credential from a node of this private swarm (forward_auth.h);
  // always false without a swarm secret. Each credential is accepted once.
  bool AcceptForwarded(const httplib::Request& req);

  // For /nodes and the web UI: the nodes this one knows, itself first, each with the freshest
  // record it has (a candidate's polled load is fresher than the directory's).
  std::vector<protocol::NodeRecord> Nodes() const;
  // Every model served in the swarm that this node knows of (/v1/models).
  std::vector<std::string> Models() const;
  // Whether Nodes() is a sample of a swarm too large to list (swarm_view.h).
  bool Sampled() const { return view_->Sampled(); }
  // How many nodes the swarm has, given that Nodes() listed `listed`: those, or, when they are
  // a sample, an estimate from the DHT (swarm_size.h).
  SwarmSize Size(size_t listed);
  dht::DhtNode& dht() { return *dht_; }
  std::optional<double> LastHeartbeat() const { return publisher_ ? publisher_->LastHeartbeat() : std::nullopt; }
  bool dht_running() const { return started_ && !left_; }

  // The id a node takes when --node-id is not given: from its public key.
  static std::string NodeIdFromKey(const dht::IdentityKey& key);
  // `key_file`, or when empty a per-DHT-port file under ~/.local/state/llamanet, made on first
  // use. kInvalidArgument (not an Ed25519 key, or readable by others), kIoError.
  static Result<dht::IdentityKey> LoadKey(const std::string& key_file, int32_t dht_port);

 private:
  Swarm() = default;
  protocol::NodeRecord SelfRecord() const;
  // Whether the candidates found so far can serve the request.
  using Enough = std::function<bool(const std::vector<protocol::NodeRecord>&)>;
  // The peers a request for `model` may go to: the candidates of its model (of every kept model
  // for any model). With `wait`, a model without candidates is looked for until they are
  // `wait`: in the directory, then in the DHT (when the directory cannot tell whether the swarm
  // serves it, at a bounded rate: a look costs a lookup and the name comes from a client).
  std::vector<protocol::NodeRecord> PeersFor(const std::string& model, const Enough& wait);
  bool DirectoryServes(const std::string& model) const;
  // `d` with the conversation's node first (protocol/affinity.h), when it has one and more
  // than one node could serve it.
  RouteDecision PlaceConversation(RouteDecision d, const protocol::RoutingFacts& facts, const protocol::NodeRecord& self,
                                  const LocalState& here, const std::vector<protocol::NodeRecord>& peers) const;

  SwarmOptions options_;
  std::string node_id_;
  dht::IdentityKey key_;
  std::unique_ptr<dht::DhtNode> dht_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<SwarmView> view_;
  std::unique_ptr<CandidateView> candidates_;
  std::atomic<int64_t> last_unlisted_ms_{0};  // the last look for a model the directory lacks
  std::unique_ptr<PeerVerifier> verifier_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<ForwardAuth> forward_auth_;  // null without a swarm secret
  std::unique_ptr<Proxy> proxy_;
  std::unique_ptr<CacheAffinity> affinity_;
  std::function<LocalNodeState()> local_;
  CachedTokensFn cached_;
  std::string public_host_;
  int32_t http_port_ = 0;
  std::thread hasher_;
  std::shared_ptr<std::string> model_sha256_ = std::make_shared<std::string>();  // set once by hasher_
  std::atomic<bool> hashed_{false};
  bool started_ = false;
  std::atomic<bool> left_{false};
};

}  // namespace llamanet::swarm
