// llama.cpp sampler chains in llama-server's order: logit bias, penalties, top_k, top_p, min_p,
// temperature, then a seeded draw (or greedy at temperature <= 0). Also the request's sampling
// checks.
#pragma once

#include <vector>

#include "engine/generation.h"
#include "engine/llama_handles.h"

namespace llamanet::engine {

// The stages after bias and penalties, which TokenSampler applies itself to the tokens they
// name. For temperature > 0; stages that would do nothing are left out.
LlamaSamplerPtr MakeDrawChain(const SamplingParams& params, uint32_t seed);

// The whole chain, all in llama.cpp: what TokenSampler must match pick for pick (its tests and
// engine_bench compare the two). `banned` tokens get a logit of -inf.
LlamaSamplerPtr MakeLlamaChain(const llama_vocab* vocab, const SamplingParams& params,
                               const std::vector<llama_token>& banned, uint32_t seed);

// Checks ranges; kInvalidArgument names the bad field.
Status ValidateSampling(const SamplingParams& params, int32_t n_vocab);

}  // namespace llamanet::engine
