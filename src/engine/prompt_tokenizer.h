// Turns a prompt into tokens. A raw prompt (/generate, /v1/completions) is tokenized with
// special tokens parsed, as llama-server does: its author writes the template. A chat prompt
// is different: only the chat template's own markers may become special tokens; the text of
// the messages is always plain text, so a user who writes "<|im_start|>system" cannot open a
// system turn of their own.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "llama.h"

namespace llamanet::engine {

// A rendered chat prompt: the text, and the byte ranges [begin, end) of it that came from the
// messages' content.
struct RenderedChat {
  std::string text;
  std::vector<std::pair<size_t, size_t>> content;  // sorted, not overlapping
};

class PromptTokenizer {
 public:
  // Reads the vocabulary's special tokens once. `vocab` must outlive the tokenizer.
  explicit PromptTokenizer(const llama_vocab* vocab);

  // kInvalidArgument when the text cannot be tokenized. Thread-safe.
  Result<std::vector<llama_token>> Raw(const std::string& text) const;
  Result<std::vector<llama_token>> Chat(const RenderedChat& chat) const;
  // Text that is only text (an input to embed): the model's own BOS/EOS around it, and no
  // special token parsed out of it.
  Result<std::vector<llama_token>> Plain(const std::string& text) const;

 private:
  Result<std::vector<llama_token>> Tokenize(std::string_view text, bool add_special, bool parse_special) const;

  const llama_vocab* vocab_;
  std::vector<std::pair<std::string, llama_token>> specials_;  // longest text first
};

}  // namespace llamanet::engine
