#include "node/node.h"

#include <openssl/sha.h>
#include <unistd.h>

#include <thread>

#include "core/log.h"
#include "engine/llama_engine.h"
#include "node/native_api.h"

namespace llamanet::node {
namespace {

constexpr int32_t kWorkerHeadroom = 16;  // status, health, UI and other short requests

HttpServerOptions ServerOptions(const NodeConfig& config) {
  HttpServerOptions o;
  o.host = config.host;
  o.port = config.port;
  // Every stream, running or queued, holds a worker for its whole life.
  o.workers = config.parallel + config.max_queue + kWorkerHeadroom;
  o.api_key = config.api_key;
  return o;
}

}  // namespace

std::string DefaultNodeId(const NodeConfig& config) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::string seed = std::string(host) + ":" + std::to_string(config.port) + ":" + std::to_string(config.dht_port);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(seed.data()), seed.size(), digest);
  static const char* kHex = "0123456789abcdef";
  std::string id = "node-";
  for (int i = 0; i < 6; ++i) {
    id += kHex[digest[i] >> 4];
    id += kHex[digest[i] & 15];
  }
  return id;
}

Result<std::unique_ptr<Node>> Node::Create(const NodeConfig& config) { return Build(config, nullptr); }

Result<std::unique_ptr<Node>> Node::CreateWithEngine(const NodeConfig& config, std::shared_ptr<engine::Engine> engine) {
  return Build(config, std::move(engine));
}

Result<std::unique_ptr<Node>> Node::Build(const NodeConfig& config, std::shared_ptr<engine::Engine> engine) {
  std::unique_ptr<Node> node(new Node());
  node->context_.config = config;
  node->context_.node_id = config.node_id.empty() ? DefaultNodeId(config) : config.node_id;
  node->http_ = std::make_unique<HttpServer>(ServerOptions(config));
  if (Status s = node->http_->Bind(); !s.ok()) return s;
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
  RegisterNativeApi(node->http_->routes(), node->context_);
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
    LN_INFO << "shutting down: letting requests in flight finish for up to " << grace.count() << " ms";
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      engine::EngineMetrics m = engine_->Metrics();
      if (m.slots_busy == 0 && m.queue_length == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  engine_->Shutdown();
  http_->Stop();
}

}  // namespace llamanet::node
