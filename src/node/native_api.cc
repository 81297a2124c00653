#include "node/native_api.h"

#include <chrono>
#include <ctime>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "node/http_errors.h"
#include "node/json_fields.h"
#include "node/stream_pump.h"
#include "node/swarm.h"
#include "node/system_info.h"

namespace llamanet::node {
namespace {

using nlohmann::json;
using engine::GenerationEvent;
using engine::GenerationRequest;
using engine::GenerationStream;

constexpr size_t kMaxStops = 16;
constexpr size_t kMaxStopBytes = 256;

double EpochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The native request body: {prompt, max_tokens, temperature, top_p, top_k, stop, repeat_penalty}.
Result<GenerationRequest> ParseGenerate(const std::string& body, int32_t n_ctx) {
  Result<json> parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  GenerationRequest r;
  if (!Present(j, "prompt")) return Status::Malformed("'prompt' is required");
  Status s = ReadString(j, "prompt", &r.prompt);
  if (s.ok() && r.prompt.empty()) s = Status::InvalidArgument("'prompt' must not be empty");
  if (s.ok()) s = ReadInt(j, "max_tokens", 1, n_ctx, &r.max_tokens);
  if (s.ok()) s = ReadFloat(j, "temperature", 0.0, 2.0, &r.sampling.temperature);
  if (s.ok()) s = ReadFloat(j, "top_p", 0.0, 1.0, &r.sampling.top_p);
  if (s.ok() && r.sampling.top_p == 0.0f) s = Status::InvalidArgument("'top_p' must be greater than 0");
  if (s.ok()) s = ReadInt(j, "top_k", 0, 1 << 20, &r.sampling.top_k);
  if (s.ok()) s = ReadFloat(j, "repeat_penalty", 0.01, 10.0, &r.sampling.repeat_penalty);
  if (s.ok()) s = ReadStringOrList(j, "stop", kMaxStops, kMaxStopBytes, &r.stop);
  if (s.ok() && Present(j, "seed")) {
    int32_t seed = 0;
    s = ReadInt(j, "seed", 0, INT32_MAX, &seed);
    r.sampling.seed = static_cast<uint32_t>(seed);
  }
  if (!s.ok()) return s;
  return r;
}

// Submits, or answers the error itself and returns null.
std::shared_ptr<GenerationStream> Submit(NodeContext& node, GenerationRequest request, httplib::Response& res) {
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
std::shared_ptr<GenerationStream> Accept(NodeContext& node, const httplib::Request& req, httplib::Response& res) {
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

void HandleGenerate(NodeContext& node, const httplib::Request& req, httplib::Response& res) {
  std::shared_ptr<GenerationStream> stream = Accept(node, req, res);
  if (!stream) return;
  GenerationEvent all = GenerationGroup({stream}, node.metrics).Collect().front();
  if (Failed(all)) return SetNativeError(res, HttpStatusFor(all.result.error), all.result.error.message());
  json out = {{"text", all.text},
              {"tokens_generated", all.result.completion_tokens},
              {"generation_time", all.result.generation_seconds},
              {"node_id", node.node_id},
              {"prompt_tokens", all.result.prompt_tokens},
              {"finish_reason", engine::FinishReasonName(all.result.finish_reason)}};
  res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
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
      sse.Event(data.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    if (failed) sse.Event(json{{"error", ev.result.error.message()}, {"finished", true}}.dump());
    return !failed;
  }

 private:
  const std::string node_id_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::string accumulated_;
};

void HandleGenerateStream(NodeContext& node, const httplib::Request& req, httplib::Response& res) {
  std::shared_ptr<GenerationStream> stream = Accept(node, req, res);
  if (!stream) return;
  ServeEventStream(res, std::make_shared<GenerationGroup>(std::vector{stream}, node.metrics),
                   std::make_shared<NativeRenderer>(node.node_id));
}

json StatusJson(const NodeContext& node) {
  engine::EngineMetrics m = node.engine->Metrics();
  double load = m.slots_total > 0 ? static_cast<double>(m.slots_busy) / m.slots_total : 0.0;
  return {{"uptime", node.UptimeSeconds()},
          {"tps", m.request_tokens_per_second},
          {"load", load},
          {"total_tokens", m.prompt_tokens_total + m.completion_tokens_total},
          {"model", node.engine->Model().name},
          {"slots", m.slots_total},
          {"slots_busy", m.slots_busy},
          {"queue", m.queue_length},
          {"decode_tps", m.decode_tokens_per_second}};
}

json InfoJson(const NodeContext& node) {
  SystemInfo sys = ReadSystemInfo();
  engine::ModelInfo model = node.engine->Model();
  return {{"node_id", node.node_id},
          {"model", model.name},
          {"model_path", model.path},
          {"model_description", model.description},
          {"n_ctx", model.n_ctx},
          {"slots", model.n_slots},
          {"system",
           {{"cpu", sys.cpu},
            {"cpu_cores", sys.cpu_cores},
            {"ram", {{"total", sys.ram_total}, {"available", sys.ram_available}}},
            {"gpu", sys.gpus.empty() ? json(nullptr) : json(sys.gpus)},
            {"platform", sys.platform}}},
          {"dht_port", node.swarm ? json(node.swarm->dht().local_endpoint().port) : json(node.config.dht_port)},
          {"openai_compatible", true},
          {"endpoints",
           {{"llamanet", {"/generate", "/generate/stream", "/status", "/info", "/health", "/nodes", "/dht/status"}},
            {"openai", {"/v1/models", "/v1/completions", "/v1/chat/completions"}}}}};
}

json HealthJson(const NodeContext& node) {
  bool running = node.running;
  std::optional<double> beat = node.swarm ? node.swarm->LastHeartbeat() : std::nullopt;
  double now = EpochSeconds();
  return {{"healthy", running},
          {"running", running},
          {"last_heartbeat", beat ? json(*beat) : json(nullptr)},
          {"time_since_last_heartbeat", beat ? json(now - *beat) : json(nullptr)},
          {"heartbeat_interval", node.config.heartbeat_interval},
          {"llm_loaded", node.engine != nullptr},
          {"dht_running", node.swarm != nullptr && node.swarm->dht_running()},
          {"timestamp", now},
          {"openai_compatible", true}};
}

}  // namespace

void RegisterNativeApi(HttpServer& server, NodeContext& node) {
  server.Post("/generate", RoutedHandler(
                               node, [&node](const httplib::Request& req, httplib::Response& res) { HandleGenerate(node, req, res); },
                               false));
  server.Post("/generate/stream",
              RoutedHandler(
                  node, [&node](const httplib::Request& req, httplib::Response& res) { HandleGenerateStream(node, req, res); },
                  false));
  server.Get("/status", [&node](const httplib::Request&, httplib::Response& res) {
    res.set_content(StatusJson(node).dump(), "application/json");
  });
  server.Get("/info", [&node](const httplib::Request&, httplib::Response& res) {
    res.set_content(InfoJson(node).dump(), "application/json");
  });
  server.Get("/health", [&node](const httplib::Request&, httplib::Response& res) {
    json h = HealthJson(node);
    if (!h["healthy"].get<bool>()) res.status = 503;
    res.set_content(h.dump(), "application/json");
  });
}

}  // namespace llamanet::node
