// One LlamaNet node: the engine, the HTTP API on top of it, and their start and stop.
#pragma once

#include <chrono>
#include <memory>

#include "core/status.h"
#include "engine/embedder.h"
#include "engine/engine.h"
#include "api/api_context.h"
#include "api/metrics.h"
#include "http/http_server.h"
#include "node/config.h"
#include "swarm/swarm.h"

namespace llamanet::node {

class Node {
 public:
  // Loads the identity key, binds the HTTP and DHT ports (a taken port fails fast, before the
  // model loads), loads the model, then joins the swarm. Errors: kUnavailable (a port taken),
  // kNotFound (model file), kInvalidArgument, kIoError (key file).
  static Result<std::unique_ptr<Node>> Create(const NodeConfig& config);
  // For tests: a node around an engine made elsewhere (a fake, or a shared real one).
  static Result<std::unique_ptr<Node>> CreateWithEngine(const NodeConfig& config, std::shared_ptr<engine::Engine> engine);
  ~Node();

  int32_t port() const { return http_->port(); }
  const std::string& node_id() const { return context_.node_id; }

  // Serves until Shutdown(). Blocks.
  void Run();
  // Refuses new work, lets requests in flight finish for up to `grace`, cancels the rest,
  // then stops the server. Thread-safe, idempotent.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  Node() = default;
  static Result<std::unique_ptr<Node>> Build(const NodeConfig& config, std::shared_ptr<engine::Engine> engine);

  NodeConfig config_;
  api::ApiContext context_;
  std::shared_ptr<engine::Engine> engine_;
  std::unique_ptr<engine::Embedder> embedder_;  // null with --embeddings=off
  std::unique_ptr<api::NodeMetrics> metrics_;
  std::unique_ptr<http::HttpServer> http_;
  std::unique_ptr<swarm::Swarm> swarm_;
};


}  // namespace llamanet::node
