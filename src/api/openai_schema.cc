#include "api/openai_schema.h"

#include <charconv>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "api/json_fields.h"
#include "protocol/affinity.h"

namespace llamanet::api {
namespace {

using nlohmann::json;

// Reads fields of one JSON object in turn; the first failure sticks, with the field it
// concerns, and later reads do nothing.
class FieldReader {
 public:
  FieldReader(const json& obj, std::string* param) : obj_(obj), param_(param) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const json& obj() const { return obj_; }

  void Fail(const std::string& field, Status s) {
    if (!ok() || s.ok()) return;
    status_ = std::move(s);
    if (param_) *param_ = field;
  }
  void String(const char* key, std::string* out) {
    if (ok()) Fail(key, ReadString(obj_, key, out));
  }
  void Int(const char* key, int64_t min, int64_t max, int32_t* out) {
    if (ok()) Fail(key, ReadInt(obj_, key, min, max, out));
  }
  void Float(const char* key, double min, double max, float* out) {
    if (ok()) Fail(key, ReadFloat(obj_, key, min, max, out));
  }
  void Bool(const char* key, bool* out) {
    if (ok()) Fail(key, ReadBool(obj_, key, out));
  }
  void StringOrList(const char* key, size_t max_items, size_t max_bytes, std::vector<std::string>* out) {
    if (ok()) Fail(key, ReadStringOrList(obj_, key, max_items, max_bytes, out));
  }

 private:
  const json& obj_;
  std::string* param_;
  Status status_;
};

std::string Quoted(const std::string& field) { return "'" + field + "'"; }

// The same error, its message led by `prefix`. REQUIRES: kMalformed or kInvalidArgument.
Status Prefixed(const std::string& prefix, const Status& s) {
  return s.code() == Status::Code::kMalformed ? Status::Malformed(prefix + s.message())
                                              : Status::InvalidArgument(prefix + s.message());
}

// seed: any integer; its low 32 bits seed the sampler.
void ReadSeed(FieldReader& r, engine::SamplingParams* sampling) {
  if (!r.ok() || !Present(r.obj(), "seed")) return;
  const json& v = r.obj().at("seed");
  if (!v.is_number_integer()) return r.Fail("seed", Status::Malformed("'seed' must be an integer"));
  sampling->seed = v.is_number_unsigned() ? static_cast<uint32_t>(v.get<uint64_t>())
                                          : static_cast<uint32_t>(v.get<int64_t>());
}

// logit_bias: {"<token id>": bias in -100..100}, as OpenAI takes it.
void ReadLogitBias(FieldReader& r, int32_t n_vocab, engine::SamplingParams* sampling) {
  if (!r.ok() || !Present(r.obj(), "logit_bias")) return;
  const json& v = r.obj().at("logit_bias");
  if (!v.is_object()) {
    return r.Fail("logit_bias", Status::Malformed("'logit_bias' must be an object of token ids to numbers"));
  }
  if (v.size() > kMaxLogitBias) {
    return r.Fail("logit_bias", Status::InvalidArgument("'logit_bias' has more than " +
                                                        std::to_string(kMaxLogitBias) + " entries"));
  }
  for (const auto& [key, bias] : v.items()) {
    int32_t token = -1;
    auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), token);
    if (ec != std::errc() || end != key.data() + key.size() || token < 0 || token >= n_vocab) {
      return r.Fail("logit_bias", Status::InvalidArgument("'logit_bias' key '" + key +
                                                          "' is not a token id of this model (0 to " +
                                                          std::to_string(n_vocab - 1) + ")"));
    }
    if (!bias.is_number()) return r.Fail("logit_bias", Status::Malformed("'logit_bias' values must be numbers"));
    double d = bias.get<double>();
    if (!(d >= -100 && d <= 100)) {
      return r.Fail("logit_bias", Status::InvalidArgument("'logit_bias' values must be between -100 and 100"));
    }
    sampling->logit_bias.emplace_back(token, static_cast<float>(d));
  }
}

// logprobs (an integer on completions, a boolean on chat) cannot be served: the engine does
// not report token probabilities. Asking for none is accepted.
void RefuseLogprobs(FieldReader& r) {
  if (!r.ok() || !Present(r.obj(), "logprobs")) return;
  const json& v = r.obj().at("logprobs");
  if (!v.is_boolean() && !v.is_number()) {
    return r.Fail("logprobs", Status::Malformed("'logprobs' must be a boolean or an integer"));
  }
  bool wanted = v.is_boolean() ? v.get<bool>() : v.get<double>() != 0;
  if (wanted) r.Fail("logprobs", Status::InvalidArgument("'logprobs' is not supported by this node"));
}

// The fields both endpoints take. `max_tokens_default` is the endpoint's own default.
void ReadCommon(FieldReader& r, const OpenAiLimits& limits, int32_t max_tokens_default, OpenAiRequest* out) {
  engine::GenerationRequest& g = out->generation;
  engine::SamplingParams& s = g.sampling;
  s.temperature = 1.0f;
  s.top_p = 1.0f;
  s.top_k = 0;
  s.repeat_penalty = 1.0f;
  g.max_tokens = max_tokens_default;

  r.String("model", &out->model);
  r.Int("max_tokens", 1, limits.n_ctx, &g.max_tokens);
  r.Float("temperature", 0.0, 2.0, &s.temperature);
  r.Float("top_p", 0.0, 1.0, &s.top_p);
  r.Int("top_k", 0, limits.n_vocab, &s.top_k);  // llama.cpp's extension
  r.Int("n", 1, kMaxChoicesPerPrompt, &out->n);
  r.StringOrList("stop", kMaxOpenAiStops, kMaxOpenAiStopBytes, &g.stop);
  r.Float("presence_penalty", -2.0, 2.0, &s.presence_penalty);
  r.Float("frequency_penalty", -2.0, 2.0, &s.frequency_penalty);
  ReadSeed(r, &s);
  ReadLogitBias(r, limits.n_vocab, &s);
  RefuseLogprobs(r);
  r.Bool("ignore_eos", &g.ignore_eos);  // llama.cpp's extension
  std::string user;                     // accepted, as OpenAI does; nothing here uses it
  r.String("user", &user);
  r.Bool("stream", &out->stream);
  if (r.ok() && Present(r.obj(), "stream_options")) {
    const json& so = r.obj().at("stream_options");
    if (!so.is_object()) return r.Fail("stream_options", Status::Malformed("'stream_options' must be an object"));
    if (!out->stream) {
      return r.Fail("stream_options", Status::InvalidArgument("'stream_options' is only allowed when 'stream' is true"));
    }
    FieldReader options(so, nullptr);
    options.Bool("include_usage", &out->include_usage);
    r.Fail("stream_options.include_usage", options.status());
  }
  // top_p 0 keeps only the most likely token: greedy decoding.
  if (r.ok() && s.top_p == 0.0f) {
    s.temperature = 0.0f;
    s.top_p = 1.0f;
  }
}

// prompt: a string or a non-empty list of strings, none of them empty.
void ReadPrompts(FieldReader& r, std::vector<std::string>* prompts) {
  if (!r.ok()) return;
  if (!Present(r.obj(), "prompt")) return r.Fail("prompt", Status::InvalidArgument("'prompt' is required"));
  const json& v = r.obj().at("prompt");
  const char* kShape = "'prompt' must be a string or a list of strings (token ids are not supported)";
  if (v.is_string()) {
    prompts->push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const json& p : v) {
      if (!p.is_string()) return r.Fail("prompt", Status::Malformed(kShape));
      prompts->push_back(p.get<std::string>());
    }
  } else {
    return r.Fail("prompt", Status::Malformed(kShape));
  }
  if (prompts->empty()) return r.Fail("prompt", Status::InvalidArgument("'prompt' must not be an empty list"));
  for (const std::string& p : *prompts) {
    if (p.empty()) return r.Fail("prompt", Status::InvalidArgument("'prompt' must not be empty"));
  }
}

// A message's content: a string, or a list of {type:"text", text} parts joined together.
// null only where OpenAI allows it (an assistant message).
Status ReadContent(const json& msg, const std::string& role, std::string* out) {
  auto it = msg.find("content");
  if (it == msg.end() || it->is_null()) {
    if (role == "assistant") return Status::Ok();
    return Status::InvalidArgument("'content' is required");
  }
  if (it->is_string()) {
    *out = it->get<std::string>();
    return Status::Ok();
  }
  if (!it->is_array()) return Status::Malformed("'content' must be a string or a list of content parts");
  for (const json& part : *it) {
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
      return Status::Malformed("each content part must be an object with a 'type'");
    }
    if (part["type"] != "text") {
      return Status::InvalidArgument("content parts of type '" + part["type"].get<std::string>() +
                                     "' are not supported; only 'text'");
    }
    if (!part.contains("text") || !part["text"].is_string()) {
      return Status::Malformed("a text content part needs a string 'text'");
    }
    out->append(part["text"].get<std::string>());
  }
  return Status::Ok();
}

// messages: a non-empty list of {role, content}; roles system, user, assistant, and
// developer (OpenAI's newer name for system).
void ReadMessages(FieldReader& r, std::vector<engine::ChatMessage>* messages) {
  if (!r.ok()) return;
  if (!Present(r.obj(), "messages")) return r.Fail("messages", Status::InvalidArgument("'messages' is required"));
  const json& v = r.obj().at("messages");
  if (!v.is_array()) return r.Fail("messages", Status::Malformed("'messages' must be a list of messages"));
  if (v.empty()) return r.Fail("messages", Status::InvalidArgument("'messages' must not be empty"));
  if (v.size() > kMaxMessages) {
    return r.Fail("messages", Status::InvalidArgument("'messages' has more than " + std::to_string(kMaxMessages) +
                                                      " entries"));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string at = "messages.[" + std::to_string(i) + "]";
    const json& m = v[i];
    if (!m.is_object()) return r.Fail(at, Status::Malformed(Quoted(at) + " must be an object"));
    engine::ChatMessage msg;
    FieldReader fields(m, nullptr);
    fields.String("role", &msg.role);
    if (!fields.ok()) return r.Fail(at + ".role", Status::Malformed(Quoted(at + ".role") + " must be a string"));
    if (msg.role == "developer") msg.role = "system";
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant") {
      return r.Fail(at + ".role", Status::InvalidArgument(
                                      msg.role.empty() ? Quoted(at + ".role") + " is required"
                                                       : "unknown role in " + Quoted(at + ".role") +
                                                             " (expected system, developer, user or assistant)"));
    }
    Status content = ReadContent(m, msg.role, &msg.content);
    if (!content.ok()) return r.Fail(at + ".content", Prefixed(Quoted(at + ".content") + ": ", content));
    messages->push_back(std::move(msg));
  }
}

Result<OpenAiRequest> Finish(FieldReader& r, OpenAiRequest out) {
  if (!r.ok()) return r.status();
  return out;
}

}  // namespace

Result<OpenAiRequest> ParseCompletionRequest(const std::string& body, const OpenAiLimits& limits, std::string* param) {
  Result<json> parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  FieldReader r(*parsed, param);
  OpenAiRequest out;
  out.endpoint = OpenAiEndpoint::kCompletions;
  ReadPrompts(r, &out.prompts);
  ReadCommon(r, limits, /*max_tokens_default=*/16, &out);
  out.generation.conversation = protocol::ConversationOf(*parsed);
  r.Bool("echo", &out.echo);
  if (r.ok() && Present(*parsed, "suffix") && *parsed->find("suffix") != "") {
    r.Fail("suffix", Status::InvalidArgument("'suffix' is not supported by this node"));
  }
  return Finish(r, std::move(out));
}

Result<OpenAiRequest> ParseChatRequest(const std::string& body, const OpenAiLimits& limits, std::string* param) {
  Result<json> parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  FieldReader r(*parsed, param);
  OpenAiRequest out;
  out.endpoint = OpenAiEndpoint::kChatCompletions;
  ReadMessages(r, &out.generation.messages);
  out.generation.conversation = protocol::ConversationOf(*parsed);
  // Until the context's end: the engine stops there with finish_reason "length".
  ReadCommon(r, limits, /*max_tokens_default=*/limits.n_ctx, &out);
  r.Int("max_completion_tokens", 1, limits.n_ctx, &out.generation.max_tokens);  // OpenAI's newer name
  return Finish(r, std::move(out));
}

}  // namespace llamanet::api
