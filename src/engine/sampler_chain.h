// The stages of llama-server's sampler order that follow logit bias and penalties (which
// token_sampler.h applies itself, to the tokens they name): top_k, top_p, min_p, temperature,
// then a seeded draw. Also the request's sampling checks.
#pragma once

#include "engine/generation.h"
#include "engine/llama_handles.h"

namespace llamanet::engine {

// For temperature > 0; stages that would do nothing are left out.
LlamaSamplerPtr MakeDrawChain(const SamplingParams& params, uint32_t seed);

// Checks ranges; kInvalidArgument names the bad field.
Status ValidateSampling(const SamplingParams& params, int32_t n_vocab);

}  // namespace llamanet::engine
