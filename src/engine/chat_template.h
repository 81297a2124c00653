// Renders chat messages into a prompt with the model's own chat template (from the GGUF),
// through llama.cpp's built-in template engine. Models without a template get ChatML. The
// result says which bytes are the messages' content, so that only the template's own markers
// are tokenized as special tokens (prompt_tokenizer.h).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "engine/generation.h"
#include "engine/prompt_tokenizer.h"
#include "llama.h"

namespace llamanet::engine {

class ChatTemplate {
 public:
  explicit ChatTemplate(const llama_model* model);

  // kInvalidArgument for an unknown role or a template llama.cpp cannot apply.
  Result<RenderedChat> Apply(const std::vector<ChatMessage>& messages) const;
  bool from_model() const { return from_model_; }

 private:
  Result<std::string> Render(const std::vector<ChatMessage>& messages) const;

  std::string template_;
  bool from_model_ = false;
};

}  // namespace llamanet::engine
