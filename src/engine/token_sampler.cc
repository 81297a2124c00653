#include "engine/token_sampler.h"

#include <cmath>
#include <limits>

#include "engine/sampler_chain.h"

namespace llamanet::engine {

int32_t ArgMax(const float* values, int32_t n) {
  if (n <= 0 || std::isnan(values[0])) return 0;
  // The largest value first, in independent lanes the compiler can vectorize; then its first
  // index. Same pick as the one-pass scan `if (v[i] > v[best]) best = i`, at a fraction of
  // its cost over a 32k vocabulary.
  constexpr int32_t kLanes = 8;
  float lane[kLanes];
  for (float& l : lane) l = values[0];
  int32_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int32_t j = 0; j < kLanes; ++j) lane[j] = values[i + j] > lane[j] ? values[i + j] : lane[j];
  }
  float best = values[0];
  for (float l : lane) best = l > best ? l : best;
  for (; i < n; ++i) best = values[i] > best ? values[i] : best;
  for (i = 0; i < n; ++i) {
    if (values[i] == best) return i;
  }
  return 0;
}

TokenSampler::TokenSampler(const llama_vocab* vocab, const SamplingParams& p, const std::vector<llama_token>& banned,
                           uint32_t seed)
    : n_vocab_(llama_vocab_n_tokens(vocab)),
      greedy_(p.temperature <= 0.0f),
      repeat_penalty_(p.repeat_penalty),
      frequency_penalty_(p.frequency_penalty),
      presence_penalty_(p.presence_penalty) {
  bias_.reserve(p.logit_bias.size() + banned.size());
  for (const auto& [token, value] : p.logit_bias) bias_.push_back({token, value});
  for (llama_token t : banned) bias_.push_back({t, -std::numeric_limits<float>::infinity()});
  // llama.cpp's penalty stage does nothing when every penalty is neutral or it looks back over
  // no tokens (repeat_last_n -1 included).
  bool neutral = p.repeat_penalty == 1.0f && p.frequency_penalty == 0.0f && p.presence_penalty == 0.0f;
  if (!neutral && p.repeat_last_n > 0) {
    repeat_last_n_ = p.repeat_last_n;
    history_.reserve(repeat_last_n_);
  }
  if (!greedy_) draw_ = MakeDrawChain(p, seed);
}

void TokenSampler::Accept(llama_token token) {
  if (!penalties_on()) return;
  ++counts_[token];
  if (history_.size() < static_cast<size_t>(repeat_last_n_)) {
    history_.push_back(token);
    return;
  }
  llama_token old = history_[history_next_];
  if (--counts_[old] == 0) counts_.erase(old);
  history_[history_next_] = token;
  history_next_ = (history_next_ + 1) % history_.size();
}

template <typename LogitAt>
void TokenSampler::AdjustNamed(LogitAt at) {
  for (const llama_logit_bias& b : bias_) at(b.token) += b.bias;
  for (const auto& [token, count] : counts_) {
    // llama.cpp's penalty arithmetic, to the bit: multiply a non-positive logit by the repeat
    // penalty, divide a positive one, then subtract the frequency and presence terms.
    float& logit = at(token);
    if (logit <= 0) {
      logit *= repeat_penalty_;
    } else {
      logit /= repeat_penalty_;
    }
    logit -= float(count) * frequency_penalty_ + float(count > 0) * presence_penalty_;
  }
}

llama_token TokenSampler::Sample(float* logits) {
  llama_token token = greedy_ ? SampleGreedy(logits) : SampleDraw(logits);
  Accept(token);
  return token;
}

llama_token TokenSampler::SampleGreedy(float* logits) {
  // Each named token's original value is saved before its first change; putting them back in
  // reverse order restores a token named twice to its first saved value.
  adjusted_.clear();
  AdjustNamed([&](llama_token t) -> float& {
    adjusted_.push_back({t, logits[t]});
    return logits[t];
  });
  llama_token token = ArgMax(logits, n_vocab_);
  for (auto it = adjusted_.rbegin(); it != adjusted_.rend(); ++it) logits[it->token] = it->original;
  return token;
}

llama_token TokenSampler::SampleDraw(const float* logits) {
  // The candidate array llama_sampler_sample would build, the bias and penalties applied to
  // their tokens only, then the chain's later stages on it as they would run.
  candidates_.resize(n_vocab_);
  for (llama_token t = 0; t < n_vocab_; ++t) candidates_[t] = llama_token_data{t, logits[t], 0.0f};
  AdjustNamed([&](llama_token t) -> float& { return candidates_[t].logit; });
  llama_token_data_array cur{candidates_.data(), candidates_.size(), -1, false};
  llama_sampler_apply(draw_.get(), &cur);
  llama_token token = cur.data[cur.selected].id;
  llama_sampler_accept(draw_.get(), token);
  return token;
}

}  // namespace llamanet::engine
