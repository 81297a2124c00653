#include "engine/chat_template.h"

#include <charconv>
#include <string>

#include "core/log.h"
#include "json-schema-to-grammar.h"
#include "json.h"

namespace llamanet::engine {
namespace {

// Stands in for message i's content while the template renders: bytes no text message holds
// and no template trims, so that the content's place in the output can be found again.
std::string Placeholder(size_t i) { return "\x1e" + std::to_string(i) + "\x1f"; }

// The rendering with each placeholder replaced by its message's content. nullopt when a
// placeholder is missing, repeated or unknown: the template changed it (escaped it, say), or
// text outside the contents (a tool call's arguments) holds the marker bytes.
std::optional<RenderedChat> FillPlaceholders(const std::string& skeleton, const std::vector<ChatMessage>& messages) {
  RenderedChat out;
  std::vector<bool> used(messages.size(), false);
  size_t pos = 0;
  while (pos < skeleton.size()) {
    size_t start = skeleton.find('\x1e', pos);
    size_t end = start == std::string::npos ? std::string::npos : skeleton.find('\x1f', start);
    if (end == std::string::npos) {
      out.text.append(skeleton, pos, std::string::npos);
      break;
    }
    size_t index = 0;
    auto [ptr, ec] = std::from_chars(skeleton.data() + start + 1, skeleton.data() + end, index);
    if (ec != std::errc() || ptr != skeleton.data() + end || index >= messages.size() || used[index] ||
        messages[index].content.empty()) {
      return std::nullopt;
    }
    used[index] = true;
    out.text.append(skeleton, pos, start - pos);
    const std::string& content = messages[index].content;
    out.content.emplace_back(out.text.size(), out.text.size() + content.size());
    out.text += content;
    pos = end + 1;
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!messages[i].content.empty() && !used[i]) return std::nullopt;
  }
  return out;
}

// A rendering of the real contents, each found in turn after the previous one. A content the
// template rewrote is not found and stays unmarked (its special-token text would then count).
RenderedChat FindContents(std::string text, const std::vector<ChatMessage>& messages) {
  RenderedChat out;
  out.text = std::move(text);
  size_t from = 0;
  for (const ChatMessage& m : messages) {
    if (m.content.empty()) continue;
    size_t at = out.text.find(m.content, from);
    if (at == std::string::npos) {
      LN_DEBUG << "chat template: a message's content is not in its rendering as written";
      continue;
    }
    out.content.emplace_back(at, at + m.content.size());
    from = at + m.content.size();
  }
  return out;
}

std::vector<ChatMessage> WithPlaceholders(const std::vector<ChatMessage>& messages) {
  std::vector<ChatMessage> out = messages;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out[i].content.empty()) out[i].content = Placeholder(i);
  }
  return out;
}

common_chat_msg ToCommon(const ChatMessage& m) {
  common_chat_msg out;
  out.role = m.role;
  out.content = m.content;
  out.tool_call_id = m.tool_call_id;
  for (const ToolCall& call : m.tool_calls) out.tool_calls.push_back({call.name, call.arguments, call.id});
  return out;
}

bool OffersTools(const OutputConstraints& c) { return !c.tools.empty() && c.tool_choice != ToolChoice::kNone; }

// The text of GBNF rule `name` ("name ::= ..."), with where it starts; npos when there is none.
std::pair<size_t, std::string> Rule(const std::string& grammar, const std::string& name) {
  const std::string head = name + " ::= ";
  size_t at = grammar.rfind(head, 0) == 0 ? 0 : grammar.find("\n" + head);
  if (at == std::string::npos) return {at, ""};
  if (at != 0) ++at;
  size_t end = grammar.find('\n', at);
  return {at, grammar.substr(at, end == std::string::npos ? std::string::npos : end - at)};
}

// llama.cpp's chat grammars begin with the template's generation prompt ("<|im_start|>assistant\n"),
// which the prompt already ends with; its common sampler feeds that text to the grammar as
// tokens first. That fails where the tokenizer writes those tokens otherwise (SentencePiece puts
// a space before the text after a special token, so the pieces read " assistant"). So the
// grammar starts past it instead: the root rule's leading literal is dropped. Returns false
// when the root does not begin with it (then the sampler's own feeding is the way).
bool StartPastGenerationPrompt(GrammarPlan& plan) {
  if (plan.lazy || plan.grammar.empty() || plan.generation_prompt.empty()) return false;
  const std::string head = "root ::= " + gbnf_format_literal(plan.generation_prompt);
  auto [at, root] = Rule(plan.grammar, "root");
  if (at == std::string::npos || root.rfind(head, 0) != 0) return false;
  if (root.size() > head.size() && root[head.size()] != ' ') return false;
  plan.grammar.replace(at, head.size(), "root ::= \"\"");
  return true;
}

// Two corrections to llama.cpp's tool-call grammars (at the pinned commit) for Hermes-style
// templates, whose calls are each wrapped in <tool_call></tool_call>:
// - they let free text come before the calls (`until-N?` in the root rule), tool_choice
//   "required" included, so a model can write on and never call: a required call comes first;
// - they allow any number of calls (`(tool-call space)+`) whatever parallel_tool_calls says:
//   without parallel calls, one.
// The parser still reads text before a call. Rules of another shape are left as they are.
void AdjustToolGrammar(GrammarPlan& plan, const OutputConstraints& constraints) {
  if (constraints.tool_choice == ToolChoice::kRequired) {
    auto [at, root] = Rule(plan.grammar, "root");
    if (at != std::string::npos) {
      std::string kept;
      size_t pos = 0;
      while (pos <= root.size()) {
        size_t next = root.find(' ', pos);
        if (next == std::string::npos) next = root.size();
        std::string word = root.substr(pos, next - pos);
        bool optional_text = word.rfind("until-", 0) == 0 && word.size() > 7 && word.back() == '?';
        if (!optional_text) kept += (kept.empty() ? "" : " ") + word;
        pos = next + 1;
      }
      plan.grammar.replace(at, root.size(), kept);
    }
  }
  if (!constraints.parallel_tool_calls) {
    auto [at, calls] = Rule(plan.grammar, "tool-calls");
    const std::string repeated = "tool-calls ::= (tool-call space)+";
    if (calls == repeated) plan.grammar.replace(at, calls.size(), "tool-calls ::= tool-call space");
  }
}

}  // namespace

std::optional<AssistantMessage> ChatOutputParser::Read(const std::string& text, bool partial) const {
  auto read = [&](bool as_partial) -> std::optional<AssistantMessage> {
    try {
      common_chat_msg msg = common_chat_parse(text, as_partial, params_);
      AssistantMessage out;
      out.content = std::move(msg.content);
      out.reasoning = std::move(msg.reasoning_content);
      for (common_chat_tool_call& call : msg.tool_calls) {
        out.tool_calls.push_back({std::move(call.id), std::move(call.name), std::move(call.arguments)});
      }
      return out;
    } catch (const std::exception& e) {
      if (!as_partial) LN_DEBUG << "chat output does not parse as the template's syntax: " << e.what();
      return std::nullopt;
    }
  };
  if (partial) return read(true);
  // A final answer may have been cut short (max_tokens, the context's end) in the middle of a
  // call, and llama.cpp's parser then still gives that call, with arguments cut short: the calls
  // the model finished count, the one cut short is dropped.
  std::optional<AssistantMessage> out = read(false);
  if (!out) out = read(true);
  if (!out) return std::nullopt;
  std::erase_if(out->tool_calls, [](const ToolCall& call) {
    common_json args = common_json::parse_no_throw(call.arguments);
    return args.is_discarded() || !args.is_object();
  });
  return out;
}

ChatTemplate::ChatTemplate(const llama_model* model) {
  const char* tmpl = llama_model_chat_template(model, nullptr);
  from_model_ = tmpl != nullptr && *tmpl != '\0';
  builtin_ = from_model_ ? tmpl : "chatml";
  try {
    jinja_ = common_chat_templates_init(model, "");
  } catch (const std::exception& e) {
    LN_WARN << "the model's chat template is not usable as Jinja (" << e.what()
            << "); using llama.cpp's built-in templates, without tools";
  }
}

Result<ChatPlan> ChatTemplate::Apply(const std::vector<ChatMessage>& messages,
                                     const OutputConstraints& constraints) const {
  for (const ChatMessage& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant" && m.role != "tool") {
      return Status::InvalidArgument("unknown message role '" + m.role + "' (expected system, user, assistant or tool)");
    }
  }
  if (!constraints.grammar.empty() && (OffersTools(constraints) || !constraints.json_schema.empty())) {
    return Status::InvalidArgument("a grammar cannot be combined with tools or a JSON schema");
  }
  if (jinja_) {
    Result<ChatPlan> plan = ApplyJinja(messages, constraints);
    if (plan.ok() || OffersTools(constraints)) return plan;
    LN_DEBUG << "chat template: " << plan.status().message() << "; trying llama.cpp's built-in templates";
    Result<ChatPlan> builtin = ApplyBuiltIn(messages, constraints);
    return builtin.ok() ? builtin : plan;
  }
  if (OffersTools(constraints)) {
    return Status::InvalidArgument("this model's chat template cannot render tools (it is not a usable Jinja template)");
  }
  return ApplyBuiltIn(messages, constraints);
}

Result<ChatPlan> ChatTemplate::ApplyJinja(const std::vector<ChatMessage>& messages,
                                          const OutputConstraints& constraints) const {
  common_chat_templates_inputs in;
  in.use_jinja = true;
  in.add_generation_prompt = true;
  in.parallel_tool_calls = constraints.parallel_tool_calls;
  in.json_schema = constraints.json_schema;
  if (!constraints.tools.empty()) {
    for (const ToolSpec& t : constraints.tools) {
      in.tools.push_back({t.name, t.description, t.parameters.empty() ? "{\"type\":\"object\"}" : t.parameters});
    }
    in.tool_choice = constraints.tool_choice == ToolChoice::kRequired ? COMMON_CHAT_TOOL_CHOICE_REQUIRED
                     : constraints.tool_choice == ToolChoice::kNone   ? COMMON_CHAT_TOOL_CHOICE_NONE
                                                                      : COMMON_CHAT_TOOL_CHOICE_AUTO;
  }
  auto render = [&](const std::vector<ChatMessage>& msgs) -> Result<common_chat_params> {
    in.messages.clear();
    for (const ChatMessage& m : msgs) in.messages.push_back(ToCommon(m));
    try {
      std::lock_guard<std::mutex> lock(jinja_mu_);
      return common_chat_templates_apply(jinja_.get(), in);
    } catch (const std::exception& e) {
      return Status::InvalidArgument(std::string("the chat template cannot render these messages: ") + e.what());
    }
  };
  Result<common_chat_params> params = render(WithPlaceholders(messages));
  if (!params.ok()) return params.status();
  ChatPlan plan;
  if (std::optional<RenderedChat> filled = FillPlaceholders(params->prompt, messages)) {
    plan.prompt = std::move(*filled);
  } else {
    params = render(messages);
    if (!params.ok()) return params.status();
    plan.prompt = FindContents(params->prompt, messages);
  }
  plan.grammar.grammar = params->grammar;
  plan.grammar.lazy = params->grammar_lazy;
  plan.grammar.generation_prompt = params->generation_prompt;
  plan.grammar.prefill = !params->grammar.empty() && !params->grammar_lazy && !StartPastGenerationPrompt(plan.grammar);
  if (OffersTools(constraints)) AdjustToolGrammar(plan.grammar, constraints);
  plan.grammar.triggers = params->grammar_triggers;
  plan.grammar.preserved_tokens = params->preserved_tokens;
  plan.stops = params->additional_stops;
  if (!constraints.grammar.empty()) plan.grammar = {constraints.grammar};
  if (OffersTools(constraints) || !constraints.json_schema.empty()) {
    common_chat_parser_params pp(*params);
    if (!params->parser.empty()) pp.parser.load(params->parser);
    plan.parser = std::make_shared<const ChatOutputParser>(std::move(pp));
  }
  return plan;
}

Result<ChatPlan> ChatTemplate::ApplyBuiltIn(const std::vector<ChatMessage>& messages,
                                            const OutputConstraints& constraints) const {
  for (const ChatMessage& m : messages) {
    if (m.role == "tool" || !m.tool_calls.empty()) {
      return Status::InvalidArgument("llama.cpp's built-in chat templates cannot render tool calls or tool results");
    }
  }
  Result<std::string> skeleton = RenderBuiltIn(WithPlaceholders(messages));
  if (!skeleton.ok()) return skeleton.status();
  Result<GrammarPlan> grammar = PlainGrammar(constraints);
  if (!grammar.ok()) return grammar.status();
  ChatPlan plan;
  std::optional<RenderedChat> filled = FillPlaceholders(*skeleton, messages);
  if (filled) {
    plan.prompt = std::move(*filled);
  } else {
    Result<std::string> text = RenderBuiltIn(messages);
    if (!text.ok()) return text.status();
    plan.prompt = FindContents(std::move(text).value(), messages);
  }
  plan.grammar = std::move(grammar).value();
  return plan;
}

Result<std::string> ChatTemplate::RenderBuiltIn(const std::vector<ChatMessage>& messages) const {
  std::vector<llama_chat_message> chat;
  chat.reserve(messages.size());
  size_t total = 0;
  for (const ChatMessage& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant") {
      return Status::InvalidArgument("unknown message role (expected system, user or assistant)");
    }
    chat.push_back({m.role.c_str(), m.content.c_str()});
    total += m.role.size() + m.content.size();
  }
  std::string out(total * 2 + 256, '\0');
  int32_t n = llama_chat_apply_template(builtin_.c_str(), chat.data(), chat.size(), true, out.data(),
                                        static_cast<int32_t>(out.size()));
  if (n > static_cast<int32_t>(out.size())) {
    out.resize(n);
    n = llama_chat_apply_template(builtin_.c_str(), chat.data(), chat.size(), true, out.data(), n);
  }
  if (n < 0) return Status::InvalidArgument("the model's chat template is not supported by llama.cpp");
  out.resize(n);
  return out;
}

Result<GrammarPlan> PlainGrammar(const OutputConstraints& constraints) {
  GrammarPlan plan;
  if (!constraints.json_schema.empty()) {
    try {
      plan.grammar = json_schema_to_grammar(common_json::parse(constraints.json_schema));
    } catch (const std::exception& e) {
      return Status::InvalidArgument(std::string("the JSON schema cannot be turned into a grammar: ") + e.what());
    }
  } else {
    plan.grammar = constraints.grammar;
  }
  return plan;
}

}  // namespace llamanet::engine
