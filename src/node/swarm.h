// This node's membership of the swarm: its identity key, the DHT, the publisher of its
// record, the view of its peers, and the router + proxy that send a request to the best node
// for its model. The HTTP routes that generate text are wrapped with Routed().
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/status.h"
#include "dht/dht_node.h"
#include "dht/record_signing.h"
#include "node/node_context.h"
#include "node/proxy.h"
#include "node/publisher.h"
#include "node/router.h"
#include "node/swarm_view.h"

namespace llamanet::node {

class Swarm {
 public:
  // Binds the DHT's UDP port. kUnavailable when it is taken.
  static Result<std::unique_ptr<Swarm>> Create(const NodeConfig& config, const std::string& node_id,
                                               dht::IdentityKey key);
  ~Swarm();

  // Joins (bootstrap retried in the background), starts publishing and watching. `node`
  // must outlive the Swarm.
  Status Start(NodeContext& node, int32_t http_port);
  // Publishes tombstones (waiting up to `timeout` for them to be stored), then stops the
  // publisher, the view and the DHT. Idempotent: a second call does nothing.
  void Leave(std::chrono::milliseconds timeout);

  // Wraps a generating route: serves it here, forwards it, or answers 404 model_not_found.
  httplib::Server::Handler Routed(httplib::Server::Handler local, bool openai_errors);

  SwarmView& view() { return *view_; }
  dht::DhtNode& dht() { return *dht_; }
  std::optional<double> LastHeartbeat() const { return publisher_ ? publisher_->LastHeartbeat() : std::nullopt; }
  bool dht_running() const { return started_ && !left_; }

  // The id a node takes when --node-id is not given: from its public key.
  static std::string NodeIdFromKey(const dht::IdentityKey& key);
  // --key-file, or a per-DHT-port file under ~/.local/state/llamanet, made on first use.
  // kInvalidArgument (not an Ed25519 key, or readable by others), kIoError.
  static Result<dht::IdentityKey> LoadKey(const NodeConfig& config);

 private:
  Swarm() = default;
  PeerRecord SelfRecord() const;

  NodeConfig config_;
  std::string node_id_;
  dht::IdentityKey key_;
  std::unique_ptr<dht::DhtNode> dht_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<SwarmView> view_;
  Router router_;
  std::unique_ptr<Proxy> proxy_;
  NodeContext* node_ = nullptr;
  std::string public_host_;
  int32_t http_port_ = 0;
  std::thread hasher_;
  std::shared_ptr<std::string> model_sha256_ = std::make_shared<std::string>();  // set once by hasher_
  std::atomic<bool> hashed_{false};
  bool started_ = false;
  std::atomic<bool> left_{false};
};

// The handler to register for a generating route: routed through the node's swarm when it
// has one, else served here.
httplib::Server::Handler RoutedHandler(NodeContext& node, httplib::Server::Handler local, bool openai_errors);

// The models served anywhere in the swarm (this node's alone without a swarm).
std::vector<std::string> SwarmModels(const NodeContext& node);

}  // namespace llamanet::node
