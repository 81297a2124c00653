// Renders chat messages into a prompt with the model's own chat template (the Jinja template in
// the GGUF, through llama.cpp's common chat code), and says how the answer must be constrained
// and read: the grammar for tool calls or a JSON schema, and the parser that turns the model's
// tool-call syntax back into calls. When the Jinja path cannot render a template, llama.cpp's
// fixed list of built-in templates is the fallback (no tools there). The result marks which
// bytes are the messages' content, so that only the template's own markers are tokenized as
// special tokens (prompt_tokenizer.h).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chat.h"
#include "core/status.h"
#include "engine/generation.h"
#include "engine/generation_stream.h"
#include "engine/prompt_tokenizer.h"
#include "llama.h"

namespace llamanet::engine {

// Reads an assistant's raw output the way its template writes tool calls (llama.cpp's parser
// for that template).
class ChatOutputParser final : public MessageReader {
 public:
  explicit ChatOutputParser(common_chat_parser_params params) : params_(std::move(params)) {}
  std::optional<AssistantMessage> Read(const std::string& text, bool partial) const override;

 private:
  common_chat_parser_params params_;
};

// How a generation's tokens must be picked: a GBNF grammar, maybe lazy (on only once one of the
// triggers appears), maybe to be fed the template's generation prompt first.
struct GrammarPlan {
  std::string grammar;  // empty: unconstrained
  bool lazy = false;
  bool prefill = false;  // the grammar starts with `generation_prompt`
  std::string generation_prompt;
  std::vector<common_grammar_trigger> triggers;
  std::vector<std::string> preserved_tokens;
};

struct ChatPlan {
  RenderedChat prompt;
  GrammarPlan grammar;
  std::vector<std::string> stops;                  // the template's own, beyond the request's
  std::shared_ptr<const ChatOutputParser> parser;  // set when the request offers tools
};

class ChatTemplate {
 public:
  explicit ChatTemplate(const llama_model* model);

  // kInvalidArgument for messages or constraints the template cannot render (tools without a
  // Jinja template, a bad JSON schema). Thread-safe.
  Result<ChatPlan> Apply(const std::vector<ChatMessage>& messages, const OutputConstraints& constraints) const;
  bool from_model() const { return from_model_; }
  bool jinja() const { return jinja_ != nullptr; }

 private:
  Result<ChatPlan> ApplyJinja(const std::vector<ChatMessage>& messages, const OutputConstraints& constraints) const;
  Result<ChatPlan> ApplyBuiltIn(const std::vector<ChatMessage>& messages, const OutputConstraints& constraints) const;
  Result<std::string> RenderBuiltIn(const std::vector<ChatMessage>& messages) const;

  std::string builtin_;  // the template llama_chat_apply_template is given
  bool from_model_ = false;
  common_chat_templates_ptr jinja_;
  mutable std::mutex jinja_mu_;  // the Jinja runtime is not documented as thread-safe
};

// The grammar for completions (no template): GBNF as given, or the JSON schema's.
// kInvalidArgument when the schema cannot be turned into a grammar.
Result<GrammarPlan> PlainGrammar(const OutputConstraints& constraints);

}  // namespace llamanet::engine
