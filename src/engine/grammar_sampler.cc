#include "engine/grammar_sampler.h"

#include <string>

namespace llamanet::engine {

Result<std::unique_ptr<GrammarSampler>> GrammarSampler::Create(const llama_model* model,
                                                               const SamplingParams& s, const GrammarPlan& plan,
                                                               uint32_t seed) {
  if (plan.grammar.size() > kMaxGrammarBytes) {
    return Status::InvalidArgument("the grammar is " + std::to_string(plan.grammar.size()) +
                                   " bytes; the limit is " + std::to_string(kMaxGrammarBytes));
  }
  // llama.cpp aborts the process on a grammar naming the llguidance engine it was built
  // without: such a grammar is refused here, before it gets that far.
  if (plan.grammar.rfind("%llguidance", 0) == 0) {
    return Status::InvalidArgument("llguidance grammars are not supported; use GBNF");
  }
  common_params_sampling p;
  p.seed = seed;
  p.temp = s.temperature;
  p.top_k = s.top_k;
  p.top_p = s.top_p;
  p.min_p = s.min_p;
  p.penalty_last_n = s.repeat_last_n;
  p.penalty_repeat = s.repeat_penalty;
  p.penalty_freq = s.frequency_penalty;
  p.penalty_present = s.presence_penalty;
  p.no_perf = true;
  for (const auto& [token, bias] : s.logit_bias) p.logit_bias.push_back({token, bias});
  p.grammar = {plan.prefill ? COMMON_GRAMMAR_TYPE_OUTPUT_FORMAT : COMMON_GRAMMAR_TYPE_USER, plan.grammar};
  p.grammar_lazy = plan.lazy;
  p.grammar_triggers = plan.triggers;
  if (plan.prefill) p.generation_prompt = plan.generation_prompt;
  common_sampler* sampler = nullptr;
  try {
    sampler = common_sampler_init(model, p);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("the grammar is not valid: ") + e.what());
  }
  if (!sampler) return Status::InvalidArgument("the grammar is not valid GBNF");
  return std::unique_ptr<GrammarSampler>(new GrammarSampler(sampler));
}

GrammarSampler::~GrammarSampler() { common_sampler_free(sampler_); }

void GrammarSampler::Accept(llama_token token) { common_sampler_accept(sampler_, token, false); }

Result<llama_token> GrammarSampler::Sample(llama_context* ctx, int32_t idx) {
  try {
    llama_token token = common_sampler_sample(sampler_, ctx, idx);
    common_sampler_accept(sampler_, token, true);
    return token;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("the grammar left no token to pick: ") + e.what());
  }
}

}  // namespace llamanet::engine
