#include "api/native_api.h"

#include <chrono>
#include <ctime>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "http/http_errors.h"
#include "http/json_body.h"
#include "api/json_fields.h"
#include "api/native_schema.h"
#include "api/stream_pump.h"
#include "api/routing.h"
#include "swarm/swarm.h"
#include "api/system_info.h"

namespace llamanet::api {

using http::HttpServer;
using http::SetNativeError;
using http::SseWriter;
using http::HttpStatusFor;
namespace {

using nlohmann::json;
using engine::GenerationEvent;
using engine::GenerationRequest;
using engine::GenerationStream;

double EpochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}


// Submits, or answers the error itself and returns null.
std::shared_ptr<GenerationStream> Submit(ApiContext& node, GenerationRequest request, httplib::Response& res) {
  if (!node.running) {
    SetNativeError(res, 503, "the node is shutting down");
    return nullptr;
  }
  Result<std::shared_ptr<GenerationStream>> stream = node.engine->Submit(std::move(request));
  if (!stream.ok()) {
    SetNativeError(res, HttpStatusFor(stream.status()), stream.status().message());
    return nullptr;
  }
  return std::move(stream).value();
}

bool Failed(const GenerationEvent& ev) {
  return ev.done && (ev.result.finish_reason == engine::FinishReason::kError ||
                     ev.result.finish_reason == engine::FinishReason::kCancelled);
}

// Parses, names and submits a native request; on failure answers the error itself and
// returns null.
std::shared_ptr<GenerationStream> Accept(ApiContext& node, const httplib::Request& req, httplib::Response& res) {
  Result<GenerationRequest> request = ParseGenerate(req.body, node.engine->Model().n_ctx);
  if (!request.ok()) {
    SetNativeError(res, HttpStatusFor(request.status()), request.status().message());
    return nullptr;
  }
  std::string id = node.NewRequestId();
  request->request_id = id;
  res.set_header("X-Request-Id", id);
  return Submit(node, std::move(request).value(), res);
}

void HandleGenerate(ApiContext& node, const httplib::Request& req, httplib::Response& res) {
  std::shared_ptr<GenerationStream> stream = Accept(node, req, res);
  if (!stream) return;
  GenerationEvent all = GenerationGroup({stream}, node.metrics).Collect(req.is_connection_closed).front();
  if (Failed(all)) return SetNativeError(res, HttpStatusFor(all.result.error), all.result.error.message());
  json out = {{"text", all.text},
              {"tokens_generated", all.result.completion_tokens},
              {"generation_time", all.result.generation_seconds},
              {"node_id", node.node_id},
              {"prompt_tokens", all.result.prompt_tokens},
              {"cached_tokens", all.result.cached_tokens},
              {"finish_reason", engine::FinishReasonName(all.result.finish_reason)}};
  http::SetJson(res, out);
}

// The native events: {text, accumulated_text, tokens_generated, generation_time, finished,
// node_id}; a failure is {error, finished:true}.
class NativeRenderer final : public SseRenderer {
 public:
  explicit NativeRenderer(std::string node_id) : node_id_(std::move(node_id)) {}

  bool Event(size_t, const GenerationEvent& ev, SseWriter& sse) override {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    bool failed = Failed(ev);
    if (!ev.text.empty() || (ev.done && !failed)) {
      accumulated_ += ev.text;
      json data = {{"text", ev.text},         {"accumulated_text", accumulated_},
                   {"tokens_generated", ev.tokens_generated}, {"generation_time", elapsed},
                   {"finished", ev.done && !failed},          {"node_id", node_id_}};
      if (ev.done) data["finish_reason"] = engine::FinishReasonName(ev.result.finish_reason);
      sse.Event(http::DumpJson(data));
    }
    if (failed) sse.Event(http::DumpJson(json{{"error", ev.result.error.message()}, {"finished", true}}));
    return !failed;
  }

 private:
  const std::string node_id_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::string accumulated_;
};

void HandleGenerateStream(ApiContext& node, const httplib::Request& req, httplib::Response& res) {
  std::shared_ptr<GenerationStream> stream = Accept(node, req, res);
  if (!stream) return;
  ServeEventStream(res, std::make_shared<GenerationGroup>(std::vector{stream}, node.metrics),
                   std::make_shared<NativeRenderer>(node.node_id));
}

json StatusJson(const ApiContext& node) {
  engine::EngineMetrics m = node.engine->Metrics();
  double load = m.slots_total > 0 ? static_cast<double>(m.slots_busy) / m.slots_total : 0.0;
  json embeddings = nullptr;
  if (node.embedder) {
    engine::EmbedderMetrics e = node.embedder->Metrics();
    embeddings = {{"requests", e.requests_total},
                  {"inputs", e.inputs_total},
                  {"tokens", e.tokens_total},
                  {"decodes", e.decodes_total},
                  {"queue", e.queue_length}};
  }
  return {{"uptime", node.UptimeSeconds()},
          {"tps", m.request_tokens_per_second},
          {"load", load},
          {"total_tokens", m.prompt_tokens_total + m.completion_tokens_total},
          {"model", node.engine->Model().name},
          {"slots", m.slots_total},
          {"slots_busy", m.slots_busy},
          {"queue", m.queue_length},
          {"decode_tps", m.decode_tokens_per_second},
          {"prefix_cache",
           {{"hits", m.prefix_hits},
            {"misses", m.prefix_misses},
            {"cached_tokens", m.cached_tokens_total},
            {"ram_bytes", m.cache_ram_bytes},
            {"ram_capacity_bytes", m.cache_ram_capacity},
            {"ram_entries", m.cache_ram_entries}}},
          {"embeddings", std::move(embeddings)}};
}

json InfoJson(const ApiContext& node) {
  SystemInfo sys = ReadSystemInfo();
  engine::ModelInfo model = node.engine->Model();
  json openai_routes = {"/v1/models", "/v1/completions", "/v1/chat/completions"};
  if (node.embedder) openai_routes.push_back("/v1/embeddings");
  return {{"node_id", node.node_id},
          {"model", model.name},
          {"model_path", model.path},
          {"model_description", model.description},
          {"n_ctx", model.n_ctx},
          {"slots", model.n_slots},
          {"embeddings", node.embedder ? json{{"dimensions", node.embedder->Dimensions()},
                                              {"max_input_tokens", node.embedder->InputTokens()}}
                                       : json(nullptr)},
          {"system",
           {{"cpu", sys.cpu},
            {"cpu_cores", sys.cpu_cores},
            {"ram", {{"total", sys.ram_total}, {"available", sys.ram_available}}},
            {"gpu", sys.gpus.empty() ? json(nullptr) : json(sys.gpus)},
            {"platform", sys.platform}}},
          {"dht_port", node.swarm ? json(node.swarm->dht().local_endpoint().port) : json(node.dht_port)},
          {"openai_compatible", true},
          {"endpoints",
           {{"llamanet", {"/generate", "/generate/stream", "/status", "/info", "/health", "/nodes", "/dht/status"}},
            {"openai", std::move(openai_routes)}}}};
}

json HealthJson(const ApiContext& node) {
  bool running = node.running;
  std::optional<double> beat = node.swarm ? node.swarm->LastHeartbeat() : std::nullopt;
  double now = EpochSeconds();
  return {{"healthy", running},
          {"running", running},
          {"last_heartbeat", beat ? json(*beat) : json(nullptr)},
          {"time_since_last_heartbeat", beat ? json(now - *beat) : json(nullptr)},
          {"heartbeat_interval", node.heartbeat_interval},
          {"llm_loaded", node.engine != nullptr},
          {"dht_running", node.swarm != nullptr && node.swarm->dht_running()},
          {"timestamp", now},
          {"openai_compatible", true}};
}

}  // namespace

void RegisterNativeApi(HttpServer& server, ApiContext& node) {
  server.Post("/generate", RoutedHandler(
                               node, [&node](const httplib::Request& req, httplib::Response& res) { HandleGenerate(node, req, res); },
                               false));
  server.Post("/generate/stream",
              RoutedHandler(
                  node, [&node](const httplib::Request& req, httplib::Response& res) { HandleGenerateStream(node, req, res); },
                  false));
  // Load balancers and the Python client read these two without a key.
  server.Get(
      "/status", [&node](const httplib::Request&, httplib::Response& res) { http::SetJson(res, StatusJson(node)); },
      http::Access::kOpen);
  server.Get("/info", [&node](const httplib::Request&, httplib::Response& res) {
    http::SetJson(res, InfoJson(node));
  });
  server.Get(
      "/health",
      [&node](const httplib::Request&, httplib::Response& res) {
        json h = HealthJson(node);
        http::SetJson(res, h, h["healthy"].get<bool>() ? 200 : 503);
      },
      http::Access::kOpen);
}

}  // namespace llamanet::api
