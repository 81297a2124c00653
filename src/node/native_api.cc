#include "node/native_api.h"

#include <chrono>
#include <ctime>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "node/http_errors.h"
#include "node/json_fields.h"
#include "node/sse_writer.h"
#include "node/system_info.h"

namespace llamanet::node {
namespace {

using nlohmann::json;
using engine::GenerationEvent;
using engine::GenerationRequest;
using engine::GenerationStream;

constexpr size_t kMaxStops = 16;
constexpr size_t kMaxStopBytes = 256;
constexpr auto kPollInterval = std::chrono::milliseconds(200);

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

void HandleGenerate(NodeContext& node, const httplib::Request& req, httplib::Response& res) {
  Result<GenerationRequest> request = ParseGenerate(req.body, node.engine->Model().n_ctx);
  if (!request.ok()) return SetNativeError(res, HttpStatusFor(request.status()), request.status().message());
  std::string id = node.NewRequestId();
  request->request_id = id;
  res.set_header("X-Request-Id", id);
  std::shared_ptr<GenerationStream> stream = Submit(node, std::move(request).value(), res);
  if (!stream) return;
  GenerationEvent all = stream->Collect();
  if (all.result.finish_reason == engine::FinishReason::kError ||
      all.result.finish_reason == engine::FinishReason::kCancelled) {
    return SetNativeError(res, HttpStatusFor(all.result.error), all.result.error.message());
  }
  json out = {{"text", all.text},
              {"tokens_generated", all.result.completion_tokens},
              {"generation_time", all.result.generation_seconds},
              {"node_id", node.node_id},
              {"prompt_tokens", all.result.prompt_tokens},
              {"finish_reason", engine::FinishReasonName(all.result.finish_reason)}};
  res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void HandleGenerateStream(NodeContext& node, const httplib::Request& req, httplib::Response& res) {
  Result<GenerationRequest> request = ParseGenerate(req.body, node.engine->Model().n_ctx);
  if (!request.ok()) return SetNativeError(res, HttpStatusFor(request.status()), request.status().message());
  std::string id = node.NewRequestId();
  request->request_id = id;
  res.set_header("X-Request-Id", id);
  res.set_header("Cache-Control", "no-cache");
  std::shared_ptr<GenerationStream> stream = Submit(node, std::move(request).value(), res);
  if (!stream) return;
  auto start = std::chrono::steady_clock::now();
  std::string node_id = node.node_id;
  res.set_chunked_content_provider(
      "text/event-stream",
      [stream, start, node_id, accumulated = std::string()](size_t, httplib::DataSink& sink) mutable {
        SseWriter sse(sink);
        while (true) {
          std::optional<GenerationEvent> ev = stream->Next(kPollInterval);
          if (!ev) {
            if (!sse.Writable()) break;
            continue;
          }
          double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          bool failed = ev->done && (ev->result.finish_reason == engine::FinishReason::kError ||
                                     ev->result.finish_reason == engine::FinishReason::kCancelled);
          if (!ev->text.empty() || (ev->done && !failed)) {
            accumulated += ev->text;
            json data = {{"text", ev->text},         {"accumulated_text", accumulated},
                         {"tokens_generated", ev->tokens_generated}, {"generation_time", elapsed},
                         {"finished", ev->done && !failed},          {"node_id", node_id}};
            if (ev->done) data["finish_reason"] = engine::FinishReasonName(ev->result.finish_reason);
            if (!sse.Event(data.dump(-1, ' ', false, json::error_handler_t::replace))) break;
          }
          if (failed) {
            sse.Event(json{{"error", ev->result.error.message()}, {"finished", true}}.dump());
          }
          if (ev->done) {
            sse.Done();
            return true;
          }
        }
        stream->Cancel();  // the client went away: free the slot at the next step
        return false;
      },
      [stream](bool) { stream->Cancel(); });
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
          {"dht_port", node.config.dht_port},
          {"openai_compatible", true},
          {"endpoints",
           {{"llamanet", {"/generate", "/generate/stream", "/status", "/info", "/health"}},
            {"openai", {"/v1/models", "/v1/completions", "/v1/chat/completions"}}}}};
}

json HealthJson(const NodeContext& node) {
  bool running = node.running;
  return {{"healthy", running},
          {"running", running},
          {"last_heartbeat", nullptr},
          {"time_since_last_heartbeat", nullptr},
          {"heartbeat_interval", node.config.heartbeat_interval},
          {"llm_loaded", node.engine != nullptr},
          {"dht_running", false},
          {"timestamp", EpochSeconds()},
          {"openai_compatible", true}};
}

}  // namespace

void RegisterNativeApi(httplib::Server& server, NodeContext& node) {
  server.Post("/generate", [&node](const httplib::Request& req, httplib::Response& res) { HandleGenerate(node, req, res); });
  server.Post("/generate/stream",
              [&node](const httplib::Request& req, httplib::Response& res) { HandleGenerateStream(node, req, res); });
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
