#include "engine/sampler_chain.h"

#include <cmath>
#include <limits>
#include <string>

namespace llamanet::engine {

LlamaSamplerPtr MakeDrawChain(const SamplingParams& p, uint32_t seed) {
  llama_sampler_chain_params cp = llama_sampler_chain_default_params();
  cp.no_perf = true;
  LlamaSamplerPtr chain(llama_sampler_chain_init(cp));
  if (p.top_k > 0) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_k(p.top_k));
  if (p.top_p < 1.0f) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_p(p.top_p, 1));
  if (p.min_p > 0.0f) llama_sampler_chain_add(chain.get(), llama_sampler_init_min_p(p.min_p, 1));
  llama_sampler_chain_add(chain.get(), llama_sampler_init_temp(p.temperature));
  llama_sampler_chain_add(chain.get(), llama_sampler_init_dist(seed));
  return chain;
}

LlamaSamplerPtr MakeLlamaChain(const llama_vocab* vocab, const SamplingParams& p,
                               const std::vector<llama_token>& banned, uint32_t seed) {
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);
  LlamaSamplerPtr chain(llama_sampler_chain_init(llama_sampler_chain_default_params()));
  std::vector<llama_logit_bias> bias;
  for (const auto& [token, value] : p.logit_bias) bias.push_back({token, value});
  for (llama_token t : banned) bias.push_back({t, -std::numeric_limits<float>::infinity()});
  llama_sampler_chain_add(chain.get(), llama_sampler_init_logit_bias(n_vocab, static_cast<int32_t>(bias.size()), bias.data()));
  llama_sampler_chain_add(chain.get(), llama_sampler_init_penalties(n_vocab, p.repeat_last_n, p.repeat_penalty,
                                                                    p.frequency_penalty, p.presence_penalty));
  llama_sampler_chain_add(chain.get(), p.temperature <= 0.0f ? llama_sampler_init_greedy() : MakeDrawChain(p, seed).release());
  return chain;
}

Status ValidateSampling(const SamplingParams& p, int32_t n_vocab) {
  auto bad = [](const std::string& m) { return Status::InvalidArgument(m); };
  if (!std::isfinite(p.temperature) || p.temperature < 0.0f || p.temperature > 2.0f)
    return bad("temperature must be between 0 and 2");
  if (!std::isfinite(p.top_p) || p.top_p <= 0.0f || p.top_p > 1.0f)
    return bad("top_p must be greater than 0 and at most 1");
  if (!std::isfinite(p.min_p) || p.min_p < 0.0f || p.min_p > 1.0f) return bad("min_p must be between 0 and 1");
  if (p.top_k < 0) return bad("top_k must be 0 (off) or positive");
  if (!std::isfinite(p.repeat_penalty) || p.repeat_penalty <= 0.0f || p.repeat_penalty > 10.0f)
    return bad("repeat_penalty must be greater than 0 and at most 10");
  if (p.repeat_last_n < -1) return bad("repeat_last_n must be -1, 0 or positive");
  if (!std::isfinite(p.presence_penalty) || std::fabs(p.presence_penalty) > 2.0f)
    return bad("presence_penalty must be between -2 and 2");
  if (!std::isfinite(p.frequency_penalty) || std::fabs(p.frequency_penalty) > 2.0f)
    return bad("frequency_penalty must be between -2 and 2");
  for (const auto& [token, value] : p.logit_bias) {
    if (token < 0 || token >= n_vocab) return bad("logit_bias names token " + std::to_string(token) + ", not in the vocabulary");
    if (std::isnan(value)) return bad("logit_bias values must be numbers");
  }
  return Status::Ok();
}

}  // namespace llamanet::engine
