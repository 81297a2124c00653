// Picks the next token of one generation from a decode's logits, with exactly the results of
// llama.cpp's sampler chain in llama-server's order (logit bias, penalties, then greedy or the
// seeded draw of sampler_chain.h), at a cost that does not grow with the vocabulary where it
// need not: bias and penalties touch only the tokens they name, and greedy is a plain argmax
// instead of a candidate array built, filtered and scanned over the whole vocabulary.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "engine/generation.h"
#include "engine/llama_handles.h"

namespace llamanet::engine {

// The index of the first largest value, as llama.cpp's greedy sampler picks it: a NaN is never
// larger than anything, and a NaN at index 0 is kept.
int32_t ArgMax(const float* values, int32_t n);

class TokenSampler {
 public:
  // `banned` tokens get a logit of -inf (used to ignore end-of-generation tokens).
  TokenSampler(const llama_vocab* vocab, const SamplingParams& params, const std::vector<llama_token>& banned,
               uint32_t seed);
  TokenSampler(const TokenSampler&) = delete;
  TokenSampler& operator=(const TokenSampler&) = delete;

  // Adds a token to the history the penalties look back over (the prompt's tail, then each
  // sampled token, which Sample() adds itself).
  void Accept(llama_token token);

  // Picks from `logits` (the vocabulary's, as llama_get_logits_ith gives them) and accepts
  // the pick. The greedy path adjusts the named tokens in place for its scan and puts the
  // original values back before it returns.
  llama_token Sample(float* logits);

 private:
  struct Adjusted {
    llama_token token;
    float original;
  };

  bool penalties_on() const { return repeat_last_n_ > 0; }
  // Applies bias then penalties to the tokens they name, as the chain's first two stages do.
  // `at(token)` gives the logit to change.
  template <typename LogitAt>
  void AdjustNamed(LogitAt at);
  llama_token SampleGreedy(float* logits);
  llama_token SampleDraw(const float* logits);

  const int32_t n_vocab_;
  const bool greedy_;
  std::vector<llama_logit_bias> bias_;  // logit_bias entries in order, then the banned tokens
  // Penalties, off when repeat_last_n_ is 0: the last repeat_last_n_ tokens in a ring, and how
  // often each occurs there.
  int32_t repeat_last_n_ = 0;
  float repeat_penalty_, frequency_penalty_, presence_penalty_;
  std::vector<llama_token> history_;
  size_t history_next_ = 0;
  std::unordered_map<llama_token, int32_t> counts_;
  // Non-greedy only: the chain's later stages and the candidate array they work on.
  LlamaSamplerPtr draw_;
  std::vector<llama_token_data> candidates_;
  std::vector<Adjusted> adjusted_;  // greedy only: what to put back after the scan
};

}  // namespace llamanet::engine
