#include "node/node.h"

#include <algorithm>
#include <thread>

#include "core/log.h"
#include "engine/llama_engine.h"
#include "api/cache_route.h"
#include "api/embeddings_route.h"
#include "engine/embeddings_only_engine.h"
#include "engine/llama_embedder.h"
#include "engine/model_loader.h"
#include "api/native_api.h"
#include "api/openai_api.h"
#include "api/identity_route.h"
#include "api/swarm_routes.h"
#include "http/http_errors.h"
#include "webui/webui_routes.h"

namespace llamanet::node {
namespace {

constexpr auto kWithdrawTimeout = std::chrono::milliseconds(1500);

http::HttpServerOptions ServerOptions(const NodeConfig& config, const std::string& node_id) {
  http::HttpServerOptions o;
  o.host = config.host;
  o.port = config.port;
  o.limits = config.http_limits;
  o.limits.max_connections_per_ip =
      config.max_connections_per_ip > 0
          ? static_cast<size_t>(config.max_connections_per_ip)
          : std::max<size_t>(o.limits.max_connections_per_ip, 2 * static_cast<size_t>(config.parallel + config.max_queue));
  o.api_key = config.api_key;
  o.node_id = node_id;
  return o;
}

swarm::SwarmOptions SwarmOptionsOf(const NodeConfig& c) {
  swarm::SwarmOptions o;
  o.host = c.host;
  o.dht_port = c.dht_port;
  o.public_host = c.public_host;
  o.bootstrap_nodes = c.bootstrap_nodes;
  o.heartbeat_interval = c.heartbeat_interval;
  o.swarm_secret = c.swarm_secret;
  o.require_signed = c.require_signed;
  o.allow_private_peers = c.allow_private_peers;
  o.model_path = c.model_path;
  return o;
}

}  // namespace

Result<std::unique_ptr<Node>> Node::Create(const NodeConfig& config) { return Build(config, nullptr); }

Result<std::unique_ptr<Node>> Node::CreateWithEngine(const NodeConfig& config, std::shared_ptr<engine::Engine> engine) {
  return Build(config, std::move(engine));
}

Result<std::unique_ptr<Node>> Node::Build(const NodeConfig& config, std::shared_ptr<engine::Engine> engine) {
  Result<dht::IdentityKey> key = swarm::Swarm::LoadKey(config.key_file, config.dht_port);
  if (!key.ok()) return key.status();
  std::unique_ptr<Node> node(new Node());
  node->config_ = config;
  node->context_.node_id = config.node_id.empty() ? swarm::Swarm::NodeIdFromKey(*key) : config.node_id;
  node->context_.model_path = config.model_path;
  node->context_.dht_port = config.dht_port;
  node->context_.heartbeat_interval = config.heartbeat_interval;
  node->http_ = std::make_unique<http::HttpServer>(ServerOptions(config, node->context_.node_id));
  if (Status s = node->http_->Bind(); !s.ok()) return s;
  Result<std::unique_ptr<swarm::Swarm>> swarm =
      swarm::Swarm::Create(SwarmOptionsOf(config), node->context_.node_id, std::move(key).value());
  if (!swarm.ok()) return swarm.status();
  node->swarm_ = std::move(swarm).value();
  node->context_.swarm = node->swarm_.get();
  if (!engine) {
    auto started = std::chrono::steady_clock::now();
    engine::ModelLoadOptions lo;
    lo.path = config.model_path;
    lo.n_gpu_layers = config.n_gpu_layers;
    Result<engine::LlamaModelPtr> loaded = engine::LoadModel(lo);
    if (!loaded.ok()) return loaded.status();
    // One copy of the weights, shared by the generation and the embedding contexts.
    std::shared_ptr<llama_model> model = std::move(loaded).value();
    const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (config.embeddings) {
      engine::LlamaEmbedderOptions mo;
      mo.n_ctx = config.embeddings_ctx;
      mo.n_threads = config.threads;
      Result<std::unique_ptr<engine::Embedder>> embedder = engine::OpenLlamaEmbedder(model, mo);
      if (!embedder.ok()) return embedder.status();
      node->embedder_ = std::move(embedder).value();
    }
    engine::LlamaEngineOptions eo;
    eo.model_path = config.model_path;
    eo.n_ctx = config.n_ctx;
    eo.n_slots = config.parallel;
    eo.n_batch = config.n_batch;
    eo.n_threads = config.threads;
    eo.n_gpu_layers = config.n_gpu_layers;
    eo.max_queue = config.max_queue;
    eo.prefix_cache = config.prefix_cache;
    eo.cache_ram_bytes = static_cast<size_t>(config.cache_ram_mib) << 20;
    if (config.embeddings_only) {
      engine::ModelInfo info = engine::DescribeModel(model.get(), config.model_path);
      info.n_ctx = node->embedder_->InputTokens();
      info.load_seconds = load_seconds;
      engine = engine::MakeEmbeddingsOnlyEngine(std::move(info));
    } else {
      Result<std::unique_ptr<engine::Engine>> opened = engine::OpenLlamaEngine(eo, model, load_seconds);
      if (!opened.ok()) return opened.status();
      engine = std::move(opened).value();
    }
  }
  node->engine_ = std::move(engine);
  node->context_.engine = node->engine_.get();
  node->context_.embedder = node->embedder_.get();
  node->metrics_ = std::make_unique<api::NodeMetrics>(*node->engine_, node->embedder_.get());
  node->context_.metrics = node->metrics_.get();

  http::HttpServer& http = *node->http_;
  api::RegisterNativeApi(http, node->context_);
  api::RegisterOpenAiApi(http, node->context_);
  api::RegisterEmbeddingsApi(http, node->context_);
  api::RegisterSwarmApi(http, *node->swarm_);
  api::RegisterCacheApi(http, node->context_);
  swarm::Swarm* member = node->swarm_.get();
  api::RegisterIdentityApi(http, [member](const std::string& nonce) { return member->ProveIdentity(nonce); });
  if (!config.swarm_secret.empty()) {
    http.SetAlternateCredential([member](const httplib::Request& req) { return member->AcceptForwarded(req); });
  }
  webui::RegisterWebUi(http, http::Access::kOpen);
  api::NodeMetrics* metrics = node->metrics_.get();
  http.Get(
      "/metrics",
      [metrics](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics->Render(), api::kPrometheusContentType);
      },
      config.metrics_open ? http::Access::kOpen : http::Access::kKey);
  http.SetRequestObserver([metrics](const std::string& route, const httplib::Request&, const httplib::Response& res) {
    metrics->ObserveRequest(route, res.status);
  });
  api::ApiContext* ctx = &node->context_;
  const bool embeddings_only = config.embeddings_only;
  auto local = [ctx, embeddings_only] {
    engine::ModelInfo m = ctx->engine->Model();
    engine::EngineMetrics e = ctx->engine->Metrics();
    swarm::LocalNodeState s;
    s.model = m.name;
    s.n_ctx = m.n_ctx;
    s.uptime = ctx->UptimeSeconds();
    s.slots = e.slots_total;
    s.busy = e.slots_busy;
    s.queue = e.queue_length;
    s.conversations = e.cached_conversations;
    s.tps = e.request_tokens_per_second;
    s.accepting = ctx->running;
    s.generation = !embeddings_only;
    s.embeddings = ctx->embedder != nullptr;
    return s;
  };
  auto cached = [ctx](uint64_t conversation) { return ctx->engine->CachedTokensFor(conversation); };
  if (Status s = node->swarm_->Start(local, cached, node->http_->port()); !s.ok()) return s;
  return node;
}

Node::~Node() {
  if (engine_) Shutdown(std::chrono::milliseconds(0));
}

void Node::Run() {
  LN_INFO << "listening on http://" << config_.host << ":" << http_->port() << " (model "
          << engine_->Model().name << ")";
  http_->Run();
}

void Node::Shutdown(std::chrono::milliseconds grace) {
  if (context_.running.exchange(false)) {
    // Leave the swarm first, so that peers stop sending work here while it drains.
    swarm_->Leave(kWithdrawTimeout);
    LN_INFO << "shutting down: letting requests in flight finish for up to " << grace.count() << " ms";
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      engine::EngineMetrics m = engine_->Metrics();
      if (m.slots_busy == 0 && m.queue_length == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  swarm_->Leave(std::chrono::milliseconds(0));
  if (embedder_) embedder_->Shutdown();
  engine_->Shutdown();
  http_->Stop();
}

}  // namespace llamanet::node
