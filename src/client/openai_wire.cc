#include "client/openai_wire.h"

#include "protocol/affinity.h"

#include <nlohmann/json.hpp>

#include "protocol/rules.h"

namespace llamanet::client {
namespace {

using nlohmann::json;

constexpr size_t kMaxStop = 4;

Status CheckParams(const SamplingParams& p) {
  if (p.max_tokens < 1) return Status::InvalidArgument("max_tokens must be at least 1");
  if (!(p.temperature >= 0 && p.temperature <= 2)) return Status::InvalidArgument("temperature must be in 0..2");
  if (!(p.top_p > 0 && p.top_p <= 1)) return Status::InvalidArgument("top_p must be in (0, 1]");
  if (p.stop.size() > kMaxStop) return Status::InvalidArgument("at most 4 stop strings");
  return Status::Ok();
}

json Body(const SamplingParams& p, const std::string& model, bool stream) {
  json body = {{"max_tokens", p.max_tokens}, {"temperature", p.temperature}, {"top_p", p.top_p}, {"stream", stream}};
  if (!protocol::IsAnyModel(model)) body["model"] = model;
  if (!p.stop.empty()) body["stop"] = p.stop;
  if (p.seed) body["seed"] = *p.seed;
  if (stream) body["stream_options"] = {{"include_usage", true}};
  return body;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string StringOr(const json& j, const char* key, std::string fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

void ReadUsage(const json& j, Usage* usage) {
  auto it = j.find("usage");
  if (it == j.end() || !it->is_object()) return;
  auto num = [&](const char* k) { return it->contains(k) && (*it)[k].is_number_integer() ? (*it)[k].get<int64_t>() : 0; };
  usage->prompt_tokens = num("prompt_tokens");
  usage->completion_tokens = num("completion_tokens");
  usage->total_tokens = num("total_tokens");
  if (auto d = it->find("prompt_tokens_details"); d != it->end() && d->is_object()) {
    if (auto c = d->find("cached_tokens"); c != d->end() && c->is_number_integer()) usage->cached_tokens = c->get<int64_t>();
  }
}

// The text of a choice: `text` (completions), `message.content` or `delta.content` (chat).
std::string ChoiceText(CallKind kind, const json& choice, const char* chat_field) {
  if (kind == CallKind::kCompletion) return StringOr(choice, "text");
  auto it = choice.find(chat_field);
  return it != choice.end() && it->is_object() ? StringOr(*it, "content") : "";
}

}  // namespace

Status CheckRequest(const GenerateRequest& request) {
  if (request.prompt.empty()) return Status::InvalidArgument("the prompt is empty");
  return CheckParams(request.params);
}

Status CheckRequest(const ChatRequest& request) {
  if (request.messages.empty()) return Status::InvalidArgument("a chat needs at least one message");
  for (const ChatMessage& m : request.messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant") {
      return Status::InvalidArgument("unknown chat role '" + m.role + "'");
    }
  }
  return CheckParams(request.params);
}

Call MakeCall(const GenerateRequest& request, const std::string& model, bool stream) {
  json body = Body(request.params, model, stream);
  body["prompt"] = request.prompt;
  return Call{CallKind::kCompletion, stream, Dump(body), protocol::ConversationOf(body)};
}

Call MakeCall(const ChatRequest& request, const std::string& model, bool stream) {
  json body = Body(request.params, model, stream);
  json messages = json::array();
  for (const ChatMessage& m : request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  body["messages"] = std::move(messages);
  return Call{CallKind::kChat, stream, Dump(body), protocol::ConversationOf(body)};
}

Result<Completion> ParseAnswer(CallKind kind, std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty() ||
      !j["choices"][0].is_object()) {
    return Status::Malformed("the node's answer is not an OpenAI completion");
  }
  const json& choice = j["choices"][0];
  Completion c;
  c.text = ChoiceText(kind, choice, "message");
  c.finish_reason = StringOr(choice, "finish_reason");
  c.model = StringOr(j, "model");
  c.id = StringOr(j, "id");
  ReadUsage(j, &c.usage);
  return c;
}

Result<std::string> StreamAssembler::OnEvent(std::string_view data) {
  if (data == "[DONE]") {
    done_ = true;
    return std::string();
  }
  json j = json::parse(data, nullptr, false);
  if (!j.is_object()) return Status::Malformed("a stream event is not a JSON object");
  if (auto e = j.find("error"); e != j.end()) {
    std::string message = e->is_object() ? StringOr(*e, "message", "unknown error") : "unknown error";
    return Status::Unavailable("the node failed mid-stream: " + message);
  }
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array()) return Status::Malformed("a stream event without choices");
  if (completion_.id.empty()) completion_.id = StringOr(j, "id");
  if (completion_.model.empty()) completion_.model = StringOr(j, "model");
  ReadUsage(j, &completion_.usage);
  std::string piece;
  for (const json& choice : *choices) {
    if (!choice.is_object()) return Status::Malformed("a stream choice is not an object");
    if (choice.contains("index") && choice["index"] != 0) continue;  // the client asks for one choice
    piece += ChoiceText(kind_, choice, "delta");
    if (std::string reason = StringOr(choice, "finish_reason"); !reason.empty()) completion_.finish_reason = reason;
  }
  completion_.text += piece;
  return piece;
}

Status StatusFromHttp(int http_status, std::string_view body) {
  std::string message;
  json j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    if (auto e = j.find("error"); e != j.end() && e->is_object()) message = StringOr(*e, "message");
    if (message.empty()) message = StringOr(j, "detail");
  }
  if (message.empty()) message = std::string(body.substr(0, 200));
  message = "HTTP " + std::to_string(http_status) + ": " + message;
  switch (protocol::CodeOfHttpStatus(http_status)) {
    case Status::Code::kNotFound:
      return Status::NotFound(message);
    case Status::Code::kTooLarge:
      return Status::TooLarge(message);
    case Status::Code::kUnavailable:
      return Status::Unavailable(message);
    case Status::Code::kInvalidArgument:
      return Status::InvalidArgument(message);
    default:
      return Status::Malformed(message);
  }
}

}  // namespace llamanet::client
