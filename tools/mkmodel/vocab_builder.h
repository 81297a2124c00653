// The tokenizer that llamanet-mkmodel writes: a SentencePiece-style ("llama", SPM) vocabulary
// laid out like Llama 2's, so llama.cpp tokenizes English text into word pieces, falls back to
// byte tokens for anything else, and knows BOS/EOS and the ChatML control tokens.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace llamanet::mkmodel {

// Token layout, for n_vocab = N:
//   0 <unk> (UNKNOWN), 1 <s> (BOS, CONTROL), 2 </s> (EOS, CONTROL),
//   3..258 <0x00>..<0xFF> (BYTE),
//   259..N-3 normal pieces: single characters, then "▁"-prefixed English words, subwords
//            and, for large vocabularies, generated syllable pieces,
//   N-2 <|im_start|>, N-1 <|im_end|> (CONTROL; <|im_end|> ends a turn).
// Every normal piece's shorter prefixes are pieces too, so SPM's pairwise merges can always
// grow a word piece one character at a time; scores rank longer pieces higher, so the merge
// queue completes the longest piece it can.
struct Vocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;  // llama_token_type values (llama.h)
  uint32_t unk_id = 0;
  uint32_t bos_id = 0;
  uint32_t eos_id = 0;
  uint32_t im_start_id = 0;
  uint32_t im_end_id = 0;
};

// Builds the vocabulary deterministically: the same n_vocab always gives the same tokens.
// Fails with InvalidArgument if n_vocab cannot hold the special, byte and single-character
// tokens (MinVocabSize()).
Result<Vocab> BuildVocab(uint32_t n_vocab);
uint32_t MinVocabSize();

// ChatML, stored as tokenizer.chat_template; llama.cpp recognises it by "<|im_start|>".
extern const char kChatMlTemplate[];

}  // namespace llamanet::mkmodel
