// Builds the llama.cpp sampler chain for one request, in llama-server's order: logit bias,
// penalties, top_k, top_p, min_p, temperature, then a seeded draw (or greedy at
// temperature <= 0). Stages that would do nothing are left out: the penalty stage scans the
// whole vocabulary and costs real time per token.
#pragma once

#include <vector>

#include "engine/generation.h"
#include "engine/llama_handles.h"

namespace llamanet::engine {

// `banned` tokens get a logit of -inf (used to ignore end-of-generation tokens).
LlamaSamplerPtr MakeSamplerChain(const llama_vocab* vocab, const SamplingParams& params,
                                 const std::vector<llama_token>& banned, uint32_t seed);

// Checks ranges; kInvalidArgument names the bad field.
Status ValidateSampling(const SamplingParams& params, int32_t n_vocab);

}  // namespace llamanet::engine
