#include "engine/prompt_tokenizer.h"

#include <algorithm>

namespace llamanet::engine {

PromptTokenizer::PromptTokenizer(const llama_vocab* vocab) : vocab_(vocab) {
  const int32_t n = llama_vocab_n_tokens(vocab);
  for (llama_token t = 0; t < n; ++t) {
    if (!(llama_vocab_get_attr(vocab, t) & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_USER_DEFINED))) continue;
    const char* text = llama_vocab_get_text(vocab, t);
    if (text && *text) specials_.emplace_back(text, t);
  }
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

Result<std::vector<llama_token>> PromptTokenizer::Tokenize(std::string_view text, bool add_special,
                                                           bool parse_special) const {
  std::vector<llama_token> tokens(text.size() + 8);
  int32_t n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                             static_cast<int32_t>(tokens.size()), add_special, parse_special);
  if (n < 0) {
    tokens.resize(-n);
    n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                       static_cast<int32_t>(tokens.size()), add_special, parse_special);
  }
  if (n < 0) return Status::InvalidArgument("the prompt could not be tokenized");
  tokens.resize(n);
  return tokens;
}

Result<std::vector<llama_token>> PromptTokenizer::Raw(const std::string& text) const {
  return Tokenize(text, true, true);
}

Result<std::vector<llama_token>> PromptTokenizer::Plain(const std::string& text) const {
  return Tokenize(text, true, false);
}

// Splits the text the way llama.cpp's own tokenizer does (special tokens cut it into fragments,
// each plain fragment is tokenized on its own), except that special tokens are looked for only
// outside the messages' content.
Result<std::vector<llama_token>> PromptTokenizer::Chat(const RenderedChat& chat) const {
  std::vector<llama_token> out;
  if (llama_vocab_get_add_bos(vocab_)) out.push_back(llama_vocab_bos(vocab_));
  std::string_view text = chat.text;
  std::string plain;  // the plain fragment being gathered
  auto flush = [&]() -> Status {
    if (plain.empty()) return Status::Ok();
    Result<std::vector<llama_token>> t = Tokenize(plain, false, false);
    if (!t.ok()) return t.status();
    out.insert(out.end(), t->begin(), t->end());
    plain.clear();
    return Status::Ok();
  };
  size_t pos = 0;
  size_t next_content = 0;
  while (pos < text.size()) {
    if (next_content < chat.content.size() && pos >= chat.content[next_content].first) {
      auto [begin, end] = chat.content[next_content++];
      end = std::min(end, text.size());
      if (end > pos) {
        plain.append(text.substr(pos, end - pos));
        pos = end;
      }
      continue;
    }
    size_t limit = next_content < chat.content.size() ? chat.content[next_content].first : text.size();
    const std::pair<std::string, llama_token>* hit = nullptr;
    for (const auto& special : specials_) {
      if (special.first.size() <= limit - pos && text.compare(pos, special.first.size(), special.first) == 0) {
        hit = &special;
        break;
      }
    }
    if (hit) {
      if (Status s = flush(); !s.ok()) return s;
      out.push_back(hit->second);
      pos += hit->first.size();
    } else {
      plain.push_back(text[pos++]);
    }
  }
  if (Status s = flush(); !s.ok()) return s;
  return out;
}

}  // namespace llamanet::engine
