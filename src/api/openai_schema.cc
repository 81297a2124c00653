#include "api/openai_schema.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "api/grammar_fields.h"
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

// Chat: logprobs (a boolean) and top_logprobs (0 to 20, only with logprobs).
void ReadChatLogprobs(FieldReader& r, engine::GenerationRequest* g) {
  r.Bool("logprobs", &g->logprobs);
  r.Int("top_logprobs", 0, kMaxTopLogprobs, &g->top_logprobs);
  if (r.ok() && Present(r.obj(), "top_logprobs") && !g->logprobs) {
    r.Fail("top_logprobs", Status::InvalidArgument("'top_logprobs' needs 'logprobs' to be true"));
  }
}

// Completions: logprobs is the number of alternatives to list per token (0 to 5), the chosen
// token's own always; absent or null: none.
void ReadCompletionLogprobs(FieldReader& r, engine::GenerationRequest* g) {
  if (!r.ok() || !Present(r.obj(), "logprobs")) return;
  r.Int("logprobs", 0, kMaxCompletionLogprobs, &g->top_logprobs);
  g->logprobs = r.ok();
}

// The llama.cpp extensions that constrain output: `grammar` (GBNF) and `json_schema`.
void ReadGrammarExtensions(FieldReader& r, engine::OutputConstraints* c) {
  if (!r.ok()) return;
  std::string field;
  Status s = ReadGrammarFields(r.obj(), c, &field);
  r.Fail(field, s);
}

// response_format: {type: "text"} | {type: "json_object"} |
// {type: "json_schema", json_schema: {name, description?, schema?, strict?}}.
// Both endpoints take it (llama-server does); it cannot be combined with the extensions.
void ReadResponseFormat(FieldReader& r, engine::OutputConstraints* c) {
  if (!r.ok() || !Present(r.obj(), "response_format")) return;
  if (!c->json_schema.empty() || !c->grammar.empty()) {
    return r.Fail("response_format",
                  Status::InvalidArgument("'response_format' cannot be combined with 'grammar' or 'json_schema'"));
  }
  const json& v = r.obj().at("response_format");
  if (!v.is_object() || !v.contains("type") || !v["type"].is_string()) {
    return r.Fail("response_format", Status::Malformed("'response_format' must be an object with a string 'type'"));
  }
  const std::string type = v["type"].get<std::string>();
  if (type == "text" || type == "json_object") {
    if (std::string extra = UnknownField(v, {"type"}); !extra.empty()) {
      return r.Fail("response_format." + extra, Status::InvalidArgument(UnrecognizedArgument("response_format." + extra)));
    }
    if (type == "json_object") c->json_schema = R"({"type":"object"})";
  } else if (type == "json_schema") {
    if (std::string extra = UnknownField(v, {"type", "json_schema"}); !extra.empty()) {
      return r.Fail("response_format." + extra, Status::InvalidArgument(UnrecognizedArgument("response_format." + extra)));
    }
    const char* kField = "response_format.json_schema";
    if (!v.contains("json_schema") || !v["json_schema"].is_object()) {
      return r.Fail(kField, Status::InvalidArgument("'response_format.json_schema' is required: {name, schema, strict}"));
    }
    const json& js = v["json_schema"];
    if (std::string extra = UnknownField(js, {"name", "description", "schema", "strict"}); !extra.empty()) {
      return r.Fail(std::string(kField) + "." + extra, Status::InvalidArgument(UnrecognizedArgument(std::string(kField) + "." + extra)));
    }
    FieldReader fields(js, nullptr);
    std::string name, description;
    bool strict = false;
    fields.String("name", &name);
    fields.String("description", &description);
    fields.Bool("strict", &strict);
    if (!fields.ok()) return r.Fail(kField, Prefixed(std::string("'") + kField + "': ", fields.status()));
    if (name.empty() || name.size() > 64 ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos) {
      return r.Fail(std::string(kField) + ".name",
                    Status::InvalidArgument("'response_format.json_schema.name' must be 1 to 64 letters, digits, _ or -"));
    }
    // Without a schema, any JSON value; strict or not, the grammar holds the output to it.
    c->json_schema = "{}";
    if (js.contains("schema") && !js["schema"].is_null()) {
      r.Fail(std::string(kField) + ".schema", ReadSchema(js["schema"], std::string(kField) + ".schema", &c->json_schema));
    }
  } else {
    r.Fail("response_format.type", Status::InvalidArgument("'response_format.type' must be 'text', 'json_object' or 'json_schema'"));
  }
}

bool ValidFunctionName(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string::npos;
}

// tools: [{type: "function", function: {name, description?, parameters?, strict?}}].
void ReadTools(FieldReader& r, engine::OutputConstraints* c) {
  if (!r.ok() || !Present(r.obj(), "tools")) return;
  const json& v = r.obj().at("tools");
  if (!v.is_array()) return r.Fail("tools", Status::Malformed("'tools' must be a list of tools"));
  if (v.size() > kMaxTools) {
    return r.Fail("tools", Status::InvalidArgument("'tools' has more than " + std::to_string(kMaxTools) + " entries"));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string at = "tools.[" + std::to_string(i) + "]";
    const json& t = v[i];
    if (!t.is_object()) return r.Fail(at, Status::Malformed(Quoted(at) + " must be an object"));
    if (std::string extra = UnknownField(t, {"type", "function"}); !extra.empty()) {
      return r.Fail(at + "." + extra, Status::InvalidArgument(UnrecognizedArgument(at + "." + extra)));
    }
    if (!t.contains("type") || t["type"] != "function") {
      return r.Fail(at + ".type", Status::InvalidArgument(Quoted(at + ".type") + " must be 'function'"));
    }
    if (!t.contains("function") || !t["function"].is_object()) {
      return r.Fail(at + ".function", Status::InvalidArgument(Quoted(at + ".function") + " is required"));
    }
    const json& f = t["function"];
    if (std::string extra = UnknownField(f, {"name", "description", "parameters", "strict"}); !extra.empty()) {
      return r.Fail(at + ".function." + extra, Status::InvalidArgument(UnrecognizedArgument(at + ".function." + extra)));
    }
    engine::ToolSpec spec;
    bool strict = false;
    FieldReader fields(f, nullptr);
    fields.String("name", &spec.name);
    fields.String("description", &spec.description);
    fields.Bool("strict", &strict);
    if (!fields.ok()) return r.Fail(at + ".function", Prefixed(Quoted(at + ".function") + ": ", fields.status()));
    if (!ValidFunctionName(spec.name)) {
      return r.Fail(at + ".function.name",
                    Status::InvalidArgument(Quoted(at + ".function.name") + " must be 1 to 64 letters, digits, _ or -"));
    }
    for (const engine::ToolSpec& other : c->tools) {
      if (other.name == spec.name) {
        return r.Fail(at + ".function.name", Status::InvalidArgument("two tools are named '" + spec.name + "'"));
      }
    }
    if (f.contains("parameters") && !f["parameters"].is_null()) {
      Status s = ReadSchema(f["parameters"], at + ".function.parameters", &spec.parameters);
      if (!s.ok()) return r.Fail(at + ".function.parameters", s);
    }
    c->tools.push_back(std::move(spec));
  }
}

// tool_choice: "none" | "auto" | "required" | {type: "function", function: {name}}; a named
// function is the only tool offered, and it must be called. parallel_tool_calls: a boolean.
void ReadToolChoice(FieldReader& r, engine::OutputConstraints* c) {
  r.Bool("parallel_tool_calls", &c->parallel_tool_calls);
  if (!r.ok() || !Present(r.obj(), "tool_choice")) return;
  const json& v = r.obj().at("tool_choice");
  const char* kShape = "'tool_choice' must be 'none', 'auto', 'required' or {type: 'function', function: {name}}";
  if (v.is_string()) {
    std::string choice = v.get<std::string>();
    if (choice == "none") {
      c->tool_choice = engine::ToolChoice::kNone;
    } else if (choice == "auto") {
      c->tool_choice = engine::ToolChoice::kAuto;
    } else if (choice == "required") {
      c->tool_choice = engine::ToolChoice::kRequired;
    } else {
      return r.Fail("tool_choice", Status::InvalidArgument(kShape));
    }
    if (c->tools.empty() && c->tool_choice == engine::ToolChoice::kRequired) {
      return r.Fail("tool_choice", Status::InvalidArgument("'tool_choice' is 'required' but no 'tools' are given"));
    }
    return;
  }
  if (!v.is_object() || v.value("type", json()) != "function" || !v.contains("function") ||
      !v["function"].is_object() || !v["function"].contains("name") || !v["function"]["name"].is_string()) {
    return r.Fail("tool_choice", Status::Malformed(kShape));
  }
  const std::string name = v["function"]["name"].get<std::string>();
  for (const engine::ToolSpec& t : c->tools) {
    if (t.name != name) continue;
    engine::ToolSpec chosen = t;
    c->tools = {std::move(chosen)};
    c->tool_choice = engine::ToolChoice::kRequired;
    return;
  }
  r.Fail("tool_choice", Status::InvalidArgument("'tool_choice' names '" + name + "', which is not in 'tools'"));
}

// Fields that only label a request: accepted, checked for shape, not used.
void ReadLabels(FieldReader& r) {
  std::string text;
  bool flag = false;
  r.String("user", &text);
  r.String("service_tier", &text);
  r.Bool("store", &flag);
  if (r.ok() && Present(r.obj(), "metadata") && !r.obj().at("metadata").is_object()) {
    r.Fail("metadata", Status::Malformed("'metadata' must be an object"));
  }
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
  // llama.cpp's extensions.
  r.Bool("ignore_eos", &g.ignore_eos);
  r.Float("min_p", 0.0, 1.0, &s.min_p);
  r.Float("repeat_penalty", 0.0, 10.0, &s.repeat_penalty);
  ReadGrammarExtensions(r, &g.constraints);
  ReadLabels(r);
  r.Bool("stream", &out->stream);
  if (r.ok() && Present(r.obj(), "stream_options")) {
    const json& so = r.obj().at("stream_options");
    if (!so.is_object()) return r.Fail("stream_options", Status::Malformed("'stream_options' must be an object"));
    if (!out->stream) {
      return r.Fail("stream_options", Status::InvalidArgument("'stream_options' is only allowed when 'stream' is true"));
    }
    if (std::string extra = UnknownField(so, {"include_usage"}); !extra.empty()) {
      return r.Fail("stream_options." + extra, Status::InvalidArgument(UnrecognizedArgument("stream_options." + extra)));
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

// An assistant message's tool_calls: [{id, type: "function", function: {name, arguments}}].
Status ReadToolCalls(const json& v, const std::string& at, std::vector<engine::ToolCall>* out) {
  if (!v.is_array()) return Status::Malformed(Quoted(at) + " must be a list of tool calls");
  if (v.size() > kMaxToolCalls) {
    return Status::InvalidArgument(Quoted(at) + " has more than " + std::to_string(kMaxToolCalls) + " entries");
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string where = at + ".[" + std::to_string(i) + "]";
    const json& c = v[i];
    if (!c.is_object() || !c.contains("function") || !c["function"].is_object()) {
      return Status::Malformed(Quoted(where) + " must be {id, type: 'function', function: {name, arguments}}");
    }
    engine::ToolCall call;
    FieldReader fields(c, nullptr);
    fields.String("id", &call.id);
    FieldReader function(c["function"], nullptr);
    function.String("name", &call.name);
    function.String("arguments", &call.arguments);
    if (!fields.ok() || !function.ok() || call.name.empty()) {
      return Status::Malformed(Quoted(where) + " must have a string id and a function with a string name and arguments");
    }
    if (call.arguments.empty()) call.arguments = "{}";
    if (json::parse(call.arguments, nullptr, false).is_discarded()) {
      return Status::InvalidArgument(Quoted(where + ".function.arguments") + " is not JSON");
    }
    out->push_back(std::move(call));
  }
  return Status::Ok();
}

// messages: a non-empty list of {role, content}; roles system, developer (OpenAI's newer name
// for system), user, assistant (content, or tool_calls, or both) and tool (content and
// tool_call_id). `name` is a label; fields an echoed-back assistant message carries empty
// (refusal, annotations, audio, function_call) are accepted when null.
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
    if (std::string extra = UnknownField(m, {"role", "content", "name", "tool_calls", "tool_call_id", "refusal",
                                             "annotations", "audio", "function_call"});
        !extra.empty()) {
      return r.Fail(at + "." + extra, Status::InvalidArgument(UnrecognizedArgument(at + "." + extra)));
    }
    for (const char* empty_only : {"refusal", "annotations", "audio", "function_call"}) {
      auto it = m.find(empty_only);
      if (it != m.end() && !it->is_null() && !(it->is_array() && it->empty())) {
        return r.Fail(at + "." + empty_only, Status::InvalidArgument(Quoted(at + "." + empty_only) + " is not supported"));
      }
    }
    engine::ChatMessage msg;
    FieldReader fields(m, nullptr);
    std::string name;
    fields.String("role", &msg.role);
    if (!fields.ok()) return r.Fail(at + ".role", Status::Malformed(Quoted(at + ".role") + " must be a string"));
    fields.String("name", &name);
    fields.String("tool_call_id", &msg.tool_call_id);
    if (!fields.ok()) return r.Fail(at, Prefixed(Quoted(at) + ": ", fields.status()));
    if (msg.role == "developer") msg.role = "system";
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" && msg.role != "tool") {
      return r.Fail(at + ".role", Status::InvalidArgument(
                                      msg.role.empty() ? Quoted(at + ".role") + " is required"
                                                       : "unknown role in " + Quoted(at + ".role") +
                                                             " (expected system, developer, user, assistant or tool)"));
    }
    if (Present(m, "tool_calls")) {
      if (msg.role != "assistant") {
        return r.Fail(at + ".tool_calls", Status::InvalidArgument("only assistant messages have 'tool_calls'"));
      }
      Status calls = ReadToolCalls(m.at("tool_calls"), at + ".tool_calls", &msg.tool_calls);
      if (!calls.ok()) return r.Fail(at + ".tool_calls", calls);
    }
    if (msg.role == "tool" && msg.tool_call_id.empty()) {
      return r.Fail(at + ".tool_call_id", Status::InvalidArgument(Quoted(at + ".tool_call_id") + " is required"));
    }
    Status content = ReadContent(m, msg.role, &msg.content);
    if (!content.ok()) return r.Fail(at + ".content", Prefixed(Quoted(at + ".content") + ": ", content));
    messages->push_back(std::move(msg));
  }
}

// Fields neither reader takes are refused, naming the first: OpenAI answers an argument it
// does not recognize with a 400, and a client that sends one expects it to count.
void RefuseUnknown(FieldReader& r, std::initializer_list<std::string_view> endpoint_fields) {
  if (!r.ok()) return;
  std::vector<std::string_view> known = {
      "model", "max_tokens", "temperature", "top_p", "n", "stop", "presence_penalty", "frequency_penalty", "seed",
      "logit_bias", "logprobs", "stream", "stream_options", "user", "metadata", "store", "service_tier",
      // llama.cpp's extensions
      "top_k", "min_p", "repeat_penalty", "ignore_eos", "grammar", "json_schema"};
  known.insert(known.end(), endpoint_fields.begin(), endpoint_fields.end());
  if (std::string field = UnknownField(r.obj(), known); !field.empty()) {
    r.Fail(field, Status::InvalidArgument(UnrecognizedArgument(field)));
  }
}

Result<OpenAiRequest> Finish(FieldReader& r, OpenAiRequest out) {
  if (!r.ok()) return r.status();
  return out;
}

}  // namespace

std::string UnrecognizedArgument(const std::string& field) {
  return "Unrecognized request argument supplied: " + field;
}

Result<OpenAiRequest> ParseCompletionRequest(const std::string& body, const OpenAiLimits& limits, std::string* param) {
  Result<json> parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  FieldReader r(*parsed, param);
  OpenAiRequest out;
  out.endpoint = OpenAiEndpoint::kCompletions;
  RefuseUnknown(r, {"prompt", "echo", "suffix", "response_format"});
  ReadPrompts(r, &out.prompts);
  ReadCommon(r, limits, /*max_tokens_default=*/16, &out);
  ReadCompletionLogprobs(r, &out.generation);
  ReadResponseFormat(r, &out.generation.constraints);
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
  RefuseUnknown(r, {"messages", "max_completion_tokens", "top_logprobs", "response_format", "tools", "tool_choice",
                    "parallel_tool_calls"});
  ReadMessages(r, &out.generation.messages);
  out.generation.conversation = protocol::ConversationOf(*parsed);
  // Until the context's end: the engine stops there with finish_reason "length".
  ReadCommon(r, limits, /*max_tokens_default=*/limits.n_ctx, &out);
  r.Int("max_completion_tokens", 1, limits.n_ctx, &out.generation.max_tokens);  // OpenAI's newer name
  ReadChatLogprobs(r, &out.generation);
  engine::OutputConstraints& c = out.generation.constraints;
  ReadResponseFormat(r, &c);
  ReadTools(r, &c);
  ReadToolChoice(r, &c);
  if (r.ok() && !c.tools.empty() && c.tool_choice != engine::ToolChoice::kNone && !c.grammar.empty()) {
    r.Fail("grammar", Status::InvalidArgument("'grammar' cannot be combined with 'tools'"));
  }
  return Finish(r, std::move(out));
}

}  // namespace llamanet::api
