#include "api/openai_api.h"

#include <algorithm>

#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/http_errors.h"
#include "http/json_body.h"
#include "api/openai_schema.h"
#include "api/routing.h"
#include "swarm/swarm.h"
#include "api/stream_pump.h"

namespace llamanet::api {

using http::HttpServer;
using http::SetOpenAiError;
using http::SseWriter;
using http::OpenAiHttpStatusFor;
using http::OpenAiErrorJson;
namespace {

using engine::FinishReason;
using engine::GenerationEvent;
using engine::GenerationStream;
using nlohmann::json;

constexpr const char* kOwner = "llamanet";

int64_t EpochSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string RandomHex(size_t digits) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  for (size_t i = 0; i < digits; ++i) out += kHex[rng() & 15];
  return out;
}

// Generated text is complete UTF-8, but a prompt echoed back may come from anywhere.
std::string Dump(const json& j) { return http::DumpJson(j); }

bool Failed(const engine::GenerationResult& r) {
  return r.finish_reason == FinishReason::kError || r.finish_reason == FinishReason::kCancelled;
}

json ModelJson(const std::string& name, int64_t created) {
  return {{"id", name}, {"object", "model"}, {"created", created}, {"owned_by", kOwner}};
}

// One /v1 generation request once accepted: what every rendering of its answer needs.
struct Call {
  OpenAiEndpoint endpoint = OpenAiEndpoint::kCompletions;
  std::string id;  // "cmpl-…" or "chatcmpl-…"
  int64_t created = 0;
  std::string model;  // the model that serves it, whatever name the client used
  std::vector<std::string> prompts;
  int32_t n = 1;
  bool echo = false;
  bool include_usage = false;
  bool logprobs = false;

  bool chat() const { return endpoint == OpenAiEndpoint::kChatCompletions; }
  size_t choices() const { return (chat() ? 1 : prompts.size()) * static_cast<size_t>(n); }
  // Choice index = prompt_index * n + j, as OpenAI numbers them.
  size_t PromptOf(size_t choice) const { return choice / static_cast<size_t>(n); }
  // The field a refused prompt concerns.
  const char* prompt_param() const { return chat() ? "messages" : "prompt"; }

  json Envelope(const char* object) const {
    return {{"id", id}, {"object", object}, {"created", created}, {"model", model}};
  }
};

// Token counts over the choices: a prompt counts once however many choices it has, as OpenAI
// counts it.
class Usage {
 public:
  void Add(const Call& call, size_t choice, const engine::GenerationResult& r) {
    if (choice % static_cast<size_t>(call.n) == 0) {
      prompt_ += r.prompt_tokens;
      cached_ += r.cached_tokens;
    }
    completion_ += r.completion_tokens;
  }
  json ToJson() const {
    // OpenAI's whole shape: what this node never produces (audio, reasoning kept apart,
    // predicted outputs) counts 0.
    return {{"prompt_tokens", prompt_},
            {"completion_tokens", completion_},
            {"total_tokens", prompt_ + completion_},
            {"prompt_tokens_details", {{"cached_tokens", cached_}, {"audio_tokens", 0}}},
            {"completion_tokens_details",
             {{"reasoning_tokens", 0}, {"audio_tokens", 0}, {"accepted_prediction_tokens", 0},
              {"rejected_prediction_tokens", 0}}}};
  }

 private:
  int64_t prompt_ = 0;
  int64_t cached_ = 0;  // prompt tokens the prefix cache held
  int64_t completion_ = 0;
};

// Submits one generation per choice. On failure, cancels those already submitted and
// returns the error.
Result<std::shared_ptr<GenerationGroup>> SubmitChoices(ApiContext& node, const Call& call, const OpenAiRequest& req,
                                                       const std::string& request_id) {
  std::vector<std::shared_ptr<GenerationStream>> streams;
  auto cancel = [&streams] {
    for (const auto& s : streams) s->Cancel();
  };
  for (size_t choice = 0; choice < call.choices(); ++choice) {
    engine::GenerationRequest g = req.generation;
    if (!call.chat()) g.prompt = call.prompts[call.PromptOf(choice)];
    // Choices of one prompt differ from one another, reproducibly when a seed is given.
    if (g.sampling.seed) *g.sampling.seed += static_cast<uint32_t>(choice % static_cast<size_t>(call.n));
    g.request_id = request_id + "/" + std::to_string(choice);
    Result<std::shared_ptr<GenerationStream>> stream = node.engine->Submit(std::move(g));
    if (!stream.ok()) {
      cancel();
      return stream.status();
    }
    streams.push_back(std::move(stream).value());
  }
  return std::make_shared<GenerationGroup>(std::move(streams), node.metrics);
}

json Bytes(const std::string& piece) {
  json out = json::array();
  for (unsigned char c : piece) out.push_back(static_cast<int>(c));
  return out;
}

json ChatTokenLogprob(const engine::TokenLogprob& t) {
  return {{"token", t.piece}, {"logprob", t.logprob}, {"bytes", Bytes(t.piece)}};
}

// Chat's shape: {content: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}], refusal}.
json ChatLogprobs(const std::vector<engine::TokenLogprobs>& tokens) {
  json content = json::array();
  for (const engine::TokenLogprobs& t : tokens) {
    json entry = ChatTokenLogprob(t.chosen);
    entry["top_logprobs"] = json::array();
    for (const engine::TokenLogprob& alt : t.top) entry["top_logprobs"].push_back(ChatTokenLogprob(alt));
    content.push_back(std::move(entry));
  }
  return {{"content", std::move(content)}, {"refusal", nullptr}};
}

// Completions' shape: {tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset};
// offsets count bytes of the choice's text from `offset` on.
json CompletionLogprobs(const std::vector<engine::TokenLogprobs>& tokens, size_t offset) {
  json out = {{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()},
              {"text_offset", json::array()}};
  for (const engine::TokenLogprobs& t : tokens) {
    out["tokens"].push_back(t.chosen.piece);
    out["token_logprobs"].push_back(t.chosen.logprob);
    json top = json::object();
    for (const engine::TokenLogprob& alt : t.top) top[alt.piece] = alt.logprob;
    out["top_logprobs"].push_back(std::move(top));
    out["text_offset"].push_back(offset);
    offset += t.chosen.piece.size();
  }
  return out;
}

json CompletionChoice(size_t index, const std::string& text, const json& finish_reason, json logprobs = nullptr) {
  return {{"text", text}, {"index", index}, {"logprobs", std::move(logprobs)}, {"finish_reason", finish_reason}};
}

json ChatChoice(size_t index, json message_or_delta, const char* key, const json& finish_reason, json logprobs = nullptr) {
  return {{"index", index}, {key, std::move(message_or_delta)}, {"logprobs", std::move(logprobs)}, {"finish_reason", finish_reason}};
}

json ToolCallJson(const engine::ToolCall& call) {
  return {{"id", call.id}, {"type", "function"}, {"function", {{"name", call.name}, {"arguments", call.arguments}}}};
}

bool CalledTools(const GenerationEvent& r) { return r.message && !r.message->tool_calls.empty(); }

// "tool_calls" when the answer is calls (and was not cut short), as OpenAI says it.
const char* FinishReasonOf(const GenerationEvent& r) {
  if (CalledTools(r) && r.result.finish_reason == FinishReason::kStop) return "tool_calls";
  return engine::FinishReasonName(r.result.finish_reason);
}

json MessageJson(const GenerationEvent& r) {
  json m = {{"role", "assistant"}};
  if (!r.message) {
    m["content"] = r.text;
    return m;
  }
  m["content"] = CalledTools(r) && r.message->content.empty() ? json(nullptr) : json(r.message->content);
  if (CalledTools(r)) {
    m["tool_calls"] = json::array();
    for (const engine::ToolCall& call : r.message->tool_calls) m["tool_calls"].push_back(ToolCallJson(call));
  }
  return m;
}

// The whole answer of a request that did not ask to stream.
json RenderResponse(const Call& call, const std::vector<GenerationEvent>& results) {
  json choices = json::array();
  Usage usage;
  for (size_t i = 0; i < results.size(); ++i) {
    const GenerationEvent& r = results[i];
    usage.Add(call, i, r.result);
    if (call.chat()) {
      choices.push_back(ChatChoice(i, MessageJson(r), "message", FinishReasonOf(r),
                                   call.logprobs ? ChatLogprobs(r.logprobs) : json(nullptr)));
    } else {
      const std::string& prompt = call.prompts[call.PromptOf(i)];
      std::string text = call.echo ? prompt + r.text : r.text;
      json logprobs = call.logprobs ? CompletionLogprobs(r.logprobs, call.echo ? prompt.size() : 0) : json(nullptr);
      choices.push_back(CompletionChoice(i, text, FinishReasonOf(r), std::move(logprobs)));
    }
  }
  json out = call.Envelope(call.chat() ? "chat.completion" : "text_completion");
  out["choices"] = std::move(choices);
  out["usage"] = usage.ToJson();
  return out;
}

// What one streamed choice has sent so far, so that each event sends only what is new.
struct ChoiceProgress {
  size_t text_bytes = 0;     // completions: bytes of text sent (for text_offset)
  size_t content_bytes = 0;  // chat with a reader: bytes of the message's content sent
  std::vector<size_t> argument_bytes;  // per tool call sent: bytes of its arguments sent
};

// The chunks of a streamed answer. Chat: a first delta {role:"assistant", content:""} per
// choice, content deltas, tool-call deltas (a call's first delta has its index, id, type and
// name with empty arguments; later ones add argument text), a last chunk per choice with
// finish_reason and an empty delta. Completions: text chunks (the prompt first, with echo),
// then the finish_reason chunk. With logprobs, the tokens of each event ride on its first
// chunk. Choices interleave as their text arrives; every chunk carries its choice's index.
// With stream_options.include_usage, every chunk has "usage": null and a last chunk with no
// choices has the totals. A failure is an event with a top-level "error". Then [DONE].
class OpenAiRenderer final : public SseRenderer {
 public:
  explicit OpenAiRenderer(std::shared_ptr<const Call> call)
      : call_(std::move(call)), progress_(call_->choices()) {}

  void Open(SseWriter& sse) override {
    for (size_t i = 0; i < call_->choices(); ++i) {
      if (call_->chat()) {
        Chunk(sse, i, json{{"role", "assistant"}, {"content", ""}}, nullptr);
      } else if (call_->echo) {
        const std::string& prompt = call_->prompts[call_->PromptOf(i)];
        progress_[i].text_bytes = prompt.size();
        Chunk(sse, i, prompt, nullptr);
      }
    }
  }

  bool Event(size_t index, const GenerationEvent& ev, SseWriter& sse) override {
    if (ev.done && Failed(ev.result)) {
      const Status& error = ev.result.error;
      sse.Event(OpenAiErrorJson(OpenAiHttpStatusFor(error), error.message()));
      failed_ = true;
      return false;
    }
    std::vector<json> deltas = call_->chat() ? ChatDeltas(index, ev) : CompletionDeltas(index, ev);
    json logprobs = nullptr;
    if (call_->logprobs && !ev.logprobs.empty()) {
      logprobs = call_->chat() ? ChatLogprobs(ev.logprobs) : CompletionLogprobs(ev.logprobs, logprob_offset(index, ev));
      if (deltas.empty()) deltas.push_back(call_->chat() ? json::object() : json(""));
    }
    for (json& delta : deltas) {
      Chunk(sse, index, std::move(delta), nullptr, std::move(logprobs));
      logprobs = nullptr;
    }
    if (ev.done) {
      usage_.Add(*call_, index, ev.result);
      Chunk(sse, index, call_->chat() ? json::object() : json(""), FinishReasonOf(ev));
    }
    return true;
  }

  void Close(SseWriter& sse) override {
    if (!failed_ && call_->include_usage) {
      json last = call_->Envelope(object());
      last["choices"] = json::array();
      last["usage"] = usage_.ToJson();
      sse.Event(Dump(last));
    }
    sse.Event("[DONE]");
  }

 private:
  const char* object() const { return call_->chat() ? "chat.completion.chunk" : "text_completion"; }

  size_t logprob_offset(size_t index, const GenerationEvent& ev) const {
    return progress_[index].text_bytes - ev.text.size();
  }

  std::vector<json> CompletionDeltas(size_t index, const GenerationEvent& ev) {
    progress_[index].text_bytes += ev.text.size();
    if (ev.text.empty()) return {};
    return {json(ev.text)};
  }

  // Without a reader, the text as it comes. With one, what the message gained: content that
  // extends what was sent (a reading that changed text already sent cannot take it back, so
  // that part is skipped), new calls, and argument text that extends a call's.
  std::vector<json> ChatDeltas(size_t index, const GenerationEvent& ev) {
    if (!ev.message) return ev.text.empty() ? std::vector<json>{} : std::vector<json>{{{"content", ev.text}}};
    ChoiceProgress& p = progress_[index];
    std::vector<json> out;
    const std::string& content = ev.message->content;
    if (content.size() > p.content_bytes) {
      out.push_back({{"content", content.substr(p.content_bytes)}});
      p.content_bytes = content.size();
    }
    const std::vector<engine::ToolCall>& calls = ev.message->tool_calls;
    for (size_t i = 0; i < calls.size(); ++i) {
      json call = {{"index", i}};
      if (i >= p.argument_bytes.size()) {
        p.argument_bytes.push_back(0);
        call["id"] = calls[i].id;
        call["type"] = "function";
        call["function"] = {{"name", calls[i].name}, {"arguments", ""}};
      }
      const std::string& args = calls[i].arguments;
      if (args.size() > p.argument_bytes[i]) {
        call["function"]["arguments"] = args.substr(p.argument_bytes[i]);
        p.argument_bytes[i] = args.size();
      }
      if (call.contains("function")) out.push_back({{"tool_calls", json::array({std::move(call)})}});
    }
    return out;
  }

  // `content` is the chat delta or the completion text.
  void Chunk(SseWriter& sse, size_t index, json content, const json& finish_reason, json logprobs = nullptr) {
    json chunk = call_->Envelope(object());
    chunk["choices"] = json::array(
        {call_->chat() ? ChatChoice(index, std::move(content), "delta", finish_reason, std::move(logprobs))
                       : CompletionChoice(index, content.get<std::string>(), finish_reason, std::move(logprobs))});
    if (call_->include_usage) chunk["usage"] = nullptr;
    sse.Event(Dump(chunk));
  }

  const std::shared_ptr<const Call> call_;
  std::vector<ChoiceProgress> progress_;
  Usage usage_;
  bool failed_ = false;
};

void HandleGeneration(ApiContext& node, OpenAiEndpoint endpoint, const httplib::Request& req,
                      httplib::Response& res) {
  engine::ModelInfo model = node.engine->Model();
  OpenAiLimits limits{model.n_ctx, model.n_vocab};
  std::string param;
  Result<OpenAiRequest> parsed = endpoint == OpenAiEndpoint::kCompletions
                                     ? ParseCompletionRequest(req.body, limits, &param)
                                     : ParseChatRequest(req.body, limits, &param);
  if (!parsed.ok()) {
    return SetOpenAiError(res, OpenAiHttpStatusFor(parsed.status()), parsed.status().message(), param);
  }
  if (!ServesModel(model, parsed->model)) {
    return SetOpenAiError(res, 404, "the model '" + parsed->model + "' is not served here", "model", "model_not_found");
  }
  if (!node.running) return SetOpenAiError(res, 503, "the node is shutting down");

  auto call = std::make_shared<Call>();
  call->endpoint = endpoint;
  call->id = (call->chat() ? "chatcmpl-" : "cmpl-") + RandomHex(24);
  call->created = EpochSeconds();
  call->model = model.name;
  call->prompts = std::move(parsed->prompts);
  call->n = parsed->n;
  call->echo = parsed->echo;
  call->include_usage = parsed->include_usage;
  call->logprobs = parsed->generation.logprobs;
  // More generations than the node holds at once (running and queued) could never be served.
  engine::EngineMetrics load = node.engine->Metrics();
  size_t capacity = static_cast<size_t>(load.slots_total + load.queue_capacity);
  if (call->choices() > capacity) {
    return SetOpenAiError(res, 400,
                          "the request asks for " + std::to_string(call->choices()) +
                              " generations (prompts x n); this node holds at most " + std::to_string(capacity),
                          call->n > 1 ? "n" : call->prompt_param());
  }

  std::string request_id = node.NewRequestId();
  res.set_header("X-Request-Id", request_id);
  Result<std::shared_ptr<GenerationGroup>> group = SubmitChoices(node, *call, *parsed, request_id);
  if (!group.ok()) {
    const Status& s = group.status();
    bool bad_prompt = s.code() == Status::Code::kInvalidArgument || s.code() == Status::Code::kTooLarge;
    return SetOpenAiError(res, OpenAiHttpStatusFor(s), s.message(), bad_prompt ? call->prompt_param() : "");
  }
  if (parsed->stream) return ServeEventStream(res, std::move(group).value(), std::make_shared<OpenAiRenderer>(call));

  std::vector<GenerationEvent> results = (*group)->Collect(req.is_connection_closed);
  for (const GenerationEvent& r : results) {
    if (Failed(r.result)) return SetOpenAiError(res, OpenAiHttpStatusFor(r.result.error), r.result.error.message());
  }
  res.set_content(Dump(RenderResponse(*call, results)), "application/json");
}

}  // namespace

bool ServesModel(const engine::ModelInfo& model, const std::string& requested) {
  return requested.empty() || requested == kOwner || requested == model.name;
}

void RegisterOpenAiApi(HttpServer& server, ApiContext& node) {
  // Every model served anywhere in the swarm: any of them can be asked for through this node.
  server.Get("/v1/models", [&node](const httplib::Request&, httplib::Response& res) {
    int64_t started = EpochSeconds() - static_cast<int64_t>(node.UptimeSeconds());
    json data = json::array();
    for (const std::string& name : SwarmModels(node)) data.push_back(ModelJson(name, started));
    http::SetJson(res, json{{"object", "list"}, {"data", data}});
  });
  server.Get("/v1/models/(.+)", [&node](const httplib::Request& req, httplib::Response& res) {
    std::vector<std::string> models = SwarmModels(node);
    if (std::find(models.begin(), models.end(), req.matches[1].str()) == models.end()) {
      return SetOpenAiError(res, 404, "no node in the swarm serves that model", "model", "model_not_found");
    }
    int64_t started = EpochSeconds() - static_cast<int64_t>(node.UptimeSeconds());
    http::SetJson(res, ModelJson(req.matches[1].str(), started));
  });
  server.Post("/v1/completions", RoutedHandler(
                                     node,
                                     [&node](const httplib::Request& req, httplib::Response& res) {
                                       HandleGeneration(node, OpenAiEndpoint::kCompletions, req, res);
                                     },
                                     true));
  server.Post("/v1/chat/completions", RoutedHandler(
                                          node,
                                          [&node](const httplib::Request& req, httplib::Response& res) {
                                            HandleGeneration(node, OpenAiEndpoint::kChatCompletions, req, res);
                                          },
                                          true));
}

}  // namespace llamanet::api
