#include "node/node.h"

#include <thread>

#include "core/log.h"
#include "engine/llama_engine.h"
#include "node/native_api.h"
#include "node/openai_api.h"
#include "node/swarm_api.h"
#include "webui/webui_routes.h"

namespace llamanet::node {
namespace {

constexpr int32_t kWorkerHeadroom = 16;  // status, health, UI and other short requests
constexpr auto kWithdrawTimeout = std::chrono::milliseconds(1500);

HttpServerOptions ServerOptions(const NodeConfig& config, const std::string& node_id) {
  HttpServerOptions o;
  o.host = config.host;
  o.port = config.port;
  // Every stream, running or queued, holds a worker for its whole life; so does every request
  // this node forwards.
  o.workers = 2 * (config.parallel + config.max_queue) + kWorkerHeadroom;
  o.api_key = config.api_key;
  o.node_id = node_id;
  return o;
}

}  // namespace

Result<std::unique_ptr<Node>> Node::Create(const NodeConfig& config) { return Build(config, nullptr); }

Result<std::unique_ptr<Node>> Node::CreateWithEngine(const NodeConfig& config, std::shared_ptr<engine::Engine> engine) {
  return Build(config, std::move(engine));
}

Result<std::unique_ptr<Node>> Node::Build(const NodeConfig& config, std::shared_ptr<engine::Engine> engine) {
  Result<dht::IdentityKey> key = Swarm::LoadKey(config);
  if (!key.ok()) return key.status();
  std::unique_ptr<Node> node(new Node());
  node->context_.config = config;
  node->context_.node_id = config.node_id.empty() ? Swarm::NodeIdFromKey(*key) : config.node_id;
  node->http_ = std::make_unique<HttpServer>(ServerOptions(config, node->context_.node_id));
  if (Status s = node->http_->Bind(); !s.ok()) return s;
  Result<std::unique_ptr<Swarm>> swarm = Swarm::Create(config, node->context_.node_id, std::move(key).value());
  if (!swarm.ok()) return swarm.status();
  node->swarm_ = std::move(swarm).value();
  node->context_.swarm = node->swarm_.get();
  if (!engine) {
    engine::LlamaEngineOptions eo;
    eo.model_path = config.model_path;
    eo.n_ctx = config.n_ctx;
    eo.n_slots = config.parallel;
    eo.n_batch = config.n_batch;
    eo.n_threads = config.threads;
    eo.n_gpu_layers = config.n_gpu_layers;
    eo.max_queue = config.max_queue;
    Result<std::unique_ptr<engine::Engine>> opened = engine::OpenLlamaEngine(eo);
    if (!opened.ok()) return opened.status();
    engine = std::move(opened).value();
  }
  node->engine_ = std::move(engine);
  node->context_.engine = node->engine_.get();
  node->metrics_ = std::make_unique<NodeMetrics>(*node->engine_);
  node->context_.metrics = node->metrics_.get();

  HttpServer& http = *node->http_;
  RegisterNativeApi(http, node->context_);
  RegisterOpenAiApi(http, node->context_);
  RegisterSwarmApi(http, node->swarm_->view(), node->swarm_->dht());
  webui::RegisterWebUi(http);
  NodeMetrics* metrics = node->metrics_.get();
  http.Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->Render(), kPrometheusContentType);
  });
  http.SetRequestObserver([metrics](const std::string& route, const httplib::Request&, const httplib::Response& res) {
    metrics->ObserveRequest(route, res.status);
  });
  if (Status s = node->swarm_->Start(node->context_, node->http_->port()); !s.ok()) return s;
  return node;
}

Node::~Node() {
  if (engine_) Shutdown(std::chrono::milliseconds(0));
}

void Node::Run() {
  LN_INFO << "listening on http://" << context_.config.host << ":" << http_->port() << " (model "
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
  engine_->Shutdown();
  http_->Stop();
}

}  // namespace llamanet::node
