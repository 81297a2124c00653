// Picks tokens under a grammar (a JSON schema's, a tool-call syntax's, or a client's GBNF) with
// llama.cpp's common sampler: the request's sampling chain, then the grammar, checked first on
// the token the chain picked and applied to every candidate only when that token breaks it.
// The unconstrained fast path is TokenSampler; this one costs a grammar step per token.
#pragma once

#include <memory>
#include <vector>

#include "core/status.h"
#include "engine/chat_template.h"
#include "engine/generation.h"
#include "llama.h"
#include "sampling.h"

namespace llamanet::engine {

// Longest grammar text taken from a client, in bytes.
inline constexpr size_t kMaxGrammarBytes = 64 * 1024;

class GrammarSampler {
 public:
  // kInvalidArgument when the grammar does not parse. End-of-generation tokens stay allowed
  // (ignore_eos does not apply): a finished grammar allows nothing else.
  static Result<std::unique_ptr<GrammarSampler>> Create(const llama_model* model, const SamplingParams& sampling,
                                                        const GrammarPlan& grammar, uint32_t seed);
  ~GrammarSampler();
  GrammarSampler(const GrammarSampler&) = delete;
  GrammarSampler& operator=(const GrammarSampler&) = delete;

  // A prompt token, for the penalties' history (the grammar does not see it).
  void Accept(llama_token token);
  // Picks from the logits at batch index `idx` of `ctx`'s last decode, and accepts the pick.
  // kInternal when the grammar leaves no token to pick (llama.cpp throws then).
  Result<llama_token> Sample(llama_context* ctx, int32_t idx);

 private:
  explicit GrammarSampler(common_sampler* sampler) : sampler_(sampler) {}
  common_sampler* sampler_;
};

}  // namespace llamanet::engine
