#include "vocab_builder.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string_view>
#include <unordered_set>

#include "english_words.h"
#include "llama.h"

namespace llamanet::mkmodel {

// ChatML, with tools in the style of Hermes-2 models: the system turn lists the functions as
// JSON inside <tools></tools>; the assistant calls one by writing a JSON object with its name
// and arguments inside <tool_call></tool_call>; a result comes back in a user turn inside
// <tool_response></tool_response>. Without tools it renders exactly as plain ChatML.
const char kChatMlTemplate[] =
    "{% set ns = namespace(first=0) %}"
    "{% if tools %}"
    "{{ '<|im_start|>system\\n' }}"
    "{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] + '\\n\\n' }}{% set ns.first = 1 %}{% endif %}"
    "{{ 'You may call functions to answer. They are described in <tools></tools> as JSON schemas:\\n<tools>' }}"
    "{% for tool in tools %}{{ '\\n' }}{{ tool | tojson }}{% endfor %}"
    "{{ '\\n</tools>\\nTo call a function, write a JSON object with its name and arguments inside "
    "<tool_call></tool_call>:\\n<tool_call>\\n{\\\"name\\\": <function name>, \\\"arguments\\\": <arguments object>}"
    "\\n</tool_call><|im_end|>\\n' }}"
    "{% endif %}"
    "{% for message in messages[ns.first:] %}"
    "{% if message['role'] == 'assistant' and message['tool_calls'] %}"
    "{{ '<|im_start|>assistant\\n' }}{% if message['content'] %}{{ message['content'] }}{% endif %}"
    "{% for call in message['tool_calls'] %}"
    "{% if call['function'] %}{% set call = call['function'] %}{% endif %}"
    "{% if message['content'] or not loop.first %}{{ '\\n' }}{% endif %}"
    "{{ '<tool_call>\\n{\\\"name\\\": \\\"' + call['name'] + '\\\", \\\"arguments\\\": ' }}"
    "{% if call['arguments'] is string %}{{ call['arguments'] }}{% else %}{{ call['arguments'] | tojson }}{% endif %}"
    "{{ '}\\n</tool_call>' }}"
    "{% endfor %}"
    "{{ '<|im_end|>\\n' }}"
    "{% elif message['role'] == 'tool' %}"
    "{{ '<|im_start|>user\\n<tool_response>\\n' + message['content'] + '\\n</tool_response><|im_end|>\\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

namespace {

// U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's word-start marker, which llama.cpp's SPM
// tokenizer substitutes for every space (and prepends to the text).
constexpr std::string_view kWordStart = "\xE2\x96\x81";

constexpr uint32_t kByteTokens = 256;
constexpr uint32_t kLeadingSpecials = 3;   // <unk>, <s>, </s>
constexpr uint32_t kTrailingSpecials = 2;  // <|im_start|>, <|im_end|>

// Characters that become single-character pieces: the word-start marker, printable ASCII
// (a space is always written as the marker) and the typographic punctuation common in
// English prose. Everything else reaches the model as byte tokens.
std::vector<std::string> SingleCharacters() {
  std::vector<std::string> chars = {std::string(kWordStart)};
  for (char c = '!'; c <= '~'; ++c) chars.emplace_back(1, c);
  for (const char* s : {"\xE2\x80\x99", "\xE2\x80\x9C", "\xE2\x80\x9D", "\xE2\x80\x94",
                        "\xE2\x80\x93", "\xE2\x80\xA6", "\xC3\xA9"}) {  // ’ “ ” — – … é
    chars.emplace_back(s);
  }
  return chars;
}

bool IsUtf8Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t CodepointCount(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return !IsUtf8Continuation(c); }));
}

// The normal pieces, collected in order until `capacity` is reached. Adding a piece first adds
// its missing prefixes (at character boundaries), so the set stays prefix-closed.
class PieceCollector {
 public:
  explicit PieceCollector(size_t capacity) : capacity_(capacity) {}

  bool full() const { return pieces_.size() >= capacity_; }

  // Returns false once the collector is full.
  bool Add(std::string_view piece) {
    for (size_t end = 1; end <= piece.size() && !full(); ++end) {
      if (end < piece.size() && IsUtf8Continuation(piece[end])) continue;
      std::string prefix(piece.substr(0, end));
      if (seen_.insert(prefix).second) pieces_.push_back(std::move(prefix));
    }
    return !full();
  }

  std::vector<std::string> Take() { return std::move(pieces_); }

 private:
  size_t capacity_;
  std::vector<std::string> pieces_;
  std::unordered_set<std::string> seen_;
};

std::string Capitalized(std::string_view word) {
  std::string s(word);
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// Fills the collector in a fixed order, from the most to the least useful pieces: single
// characters, subwords, word starts, capitalised word starts, inflected word starts, and last
// an endless series of generated syllable strings (with and without the word-start marker)
// so that any vocabulary size can be filled deterministically.
void CollectPieces(PieceCollector& out) {
  for (const auto& c : SingleCharacters()) {
    if (!out.Add(c)) return;
  }
  for (std::string_view s : CommonSubwords()) {
    if (!out.Add(s)) return;
  }
  const std::string ws(kWordStart);
  for (std::string_view w : CommonWords()) {
    if (!out.Add(ws + std::string(w))) return;
  }
  for (std::string_view w : CommonWords()) {
    if (!out.Add(ws + Capitalized(w))) return;
  }
  for (std::string_view suffix : {"s", "ed", "ing", "er", "ly"}) {
    for (std::string_view w : CommonWords()) {
      if (!out.Add(ws + std::string(w) + std::string(suffix))) return;
    }
  }
  // Syllables are consonant + vowel; counting k = 1, 2, ... in bijective base 100 gives every
  // syllable string exactly once, shortest first.
  constexpr std::string_view kConsonants = "bcdfghjklmnprstvwxyz";
  constexpr std::string_view kVowels = "aeiou";
  constexpr uint64_t kSyllables = kConsonants.size() * kVowels.size();
  for (uint64_t k = 1;; ++k) {
    std::string word;
    for (uint64_t n = k; n > 0; n = (n - 1) / kSyllables) {
      const uint64_t digit = (n - 1) % kSyllables;
      word += kConsonants[digit / kVowels.size()];
      word += kVowels[digit % kVowels.size()];
    }
    if (!out.Add(ws + word) || !out.Add(word)) return;
  }
}

// Ranks longer pieces (in characters) above shorter ones, keeping collection order among
// pieces of equal length: llama.cpp's SPM tokenizer merges the highest-scoring adjacent pair
// first, so this makes it build the longest piece available. Scores are -rank, as in Llama's
// own vocabulary, and exact in a float for any vocabulary under 2^24 tokens.
std::vector<float> LongestFirstScores(const std::vector<std::string>& pieces) {
  std::vector<size_t> order(pieces.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return CodepointCount(pieces[a]) > CodepointCount(pieces[b]);
  });
  std::vector<float> scores(pieces.size());
  for (size_t rank = 0; rank < order.size(); ++rank) scores[order[rank]] = -static_cast<float>(rank);
  return scores;
}

}  // namespace

uint32_t MinVocabSize() {
  return kLeadingSpecials + kByteTokens + static_cast<uint32_t>(SingleCharacters().size()) +
         kTrailingSpecials;
}

Result<Vocab> BuildVocab(uint32_t n_vocab) {
  if (n_vocab < MinVocabSize()) {
    return Status::InvalidArgument("n_vocab " + std::to_string(n_vocab) + " is below the minimum of " +
                                   std::to_string(MinVocabSize()));
  }
  Vocab v;
  v.tokens.reserve(n_vocab);
  v.scores.reserve(n_vocab);
  v.types.reserve(n_vocab);
  auto add = [&v](std::string text, float score, llama_token_type type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(type);
    return static_cast<uint32_t>(v.tokens.size() - 1);
  };

  v.unk_id = add("<unk>", 0.0f, LLAMA_TOKEN_TYPE_UNKNOWN);
  v.bos_id = add("<s>", 0.0f, LLAMA_TOKEN_TYPE_CONTROL);
  v.eos_id = add("</s>", 0.0f, LLAMA_TOKEN_TYPE_CONTROL);
  for (uint32_t b = 0; b < kByteTokens; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    add(name, 0.0f, LLAMA_TOKEN_TYPE_BYTE);
  }

  PieceCollector collector(n_vocab - v.tokens.size() - kTrailingSpecials);
  CollectPieces(collector);
  std::vector<std::string> pieces = collector.Take();
  const std::vector<float> scores = LongestFirstScores(pieces);
  for (size_t i = 0; i < pieces.size(); ++i) add(std::move(pieces[i]), scores[i], LLAMA_TOKEN_TYPE_NORMAL);

  v.im_start_id = add("<|im_start|>", 0.0f, LLAMA_TOKEN_TYPE_CONTROL);
  v.im_end_id = add("<|im_end|>", 0.0f, LLAMA_TOKEN_TYPE_CONTROL);
  return v;
}

}  // namespace llamanet::mkmodel
