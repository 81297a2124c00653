// TokenSampler against llama.cpp's own sampler chain in llama-server's order (logit bias,
// penalties, then greedy or the seeded draw), fed the same logits and the same history: every
// pick must be the same token.
#include "engine/token_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "engine/llama_handles.h"
#include "engine/model_loader.h"
#include "engine/sampler_chain.h"

namespace llamanet::engine {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

class TokenSamplerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ModelLoadOptions o;
    o.path = LLAMANET_TINY_MODEL;
    o.show_progress = false;
    auto m = LoadModel(o);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(*m).release();
  }
  static void TearDownTestSuite() { llama_model_free(model_); }

  static const llama_vocab* vocab() { return llama_model_get_vocab(model_); }
  static int32_t n_vocab() { return llama_vocab_n_tokens(vocab()); }

  // What llama_sampler_sample does with a context's logits, on logits of our own.
  static llama_token ReferencePick(llama_sampler* chain, const std::vector<float>& logits) {
    std::vector<llama_token_data> cur(logits.size());
    for (size_t t = 0; t < logits.size(); ++t) cur[t] = {static_cast<llama_token>(t), logits[t], 0.0f};
    llama_token_data_array arr{cur.data(), cur.size(), -1, false};
    llama_sampler_apply(chain, &arr);
    llama_token token = arr.data[arr.selected].id;
    llama_sampler_accept(chain, token);
    return token;
  }

  // Random logits where the recent tokens often lead, so that penalties decide picks; some
  // steps have ties for the lead and some -inf entries.
  static std::vector<float> Logits(std::mt19937& rng, const std::vector<llama_token>& recent) {
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> v(n_vocab());
    for (float& x : v) x = normal(rng);
    for (size_t i = 0; i < recent.size() && i < 6; ++i) v[recent[recent.size() - 1 - i]] = 9.0f - 0.5f * i;
    if (rng() % 4 == 0) v[rng() % v.size()] = v[rng() % v.size()] = 12.0f;
    if (rng() % 5 == 0) v[rng() % v.size()] = -kInf;
    return v;
  }

  // Runs both samplers over `steps` random logit rows; every pick must match and the logits
  // handed to TokenSampler must come back unchanged.
  static void ExpectSamePicks(const SamplingParams& p, const std::vector<llama_token>& banned, uint32_t seed,
                              int steps) {
    std::mt19937 rng(seed * 7919u + 13);
    LlamaSamplerPtr ref = MakeLlamaChain(vocab(), p, banned, seed);
    TokenSampler mine(vocab(), p, banned, seed);
    std::vector<llama_token> history;
    for (int i = 0; i < 40; ++i) history.push_back(static_cast<llama_token>(rng() % 50));
    for (llama_token t : history) {
      llama_sampler_accept(ref.get(), t);
      mine.Accept(t);
    }
    for (int step = 0; step < steps; ++step) {
      std::vector<float> logits = Logits(rng, history);
      std::vector<float> copy = logits;
      llama_token want = ReferencePick(ref.get(), logits);
      llama_token got = mine.Sample(copy.data());
      ASSERT_EQ(got, want) << "step " << step;
      ASSERT_EQ(0, std::memcmp(copy.data(), logits.data(), logits.size() * sizeof(float))) << "step " << step;
      history.push_back(got);
    }
  }

  static SamplingParams Greedy() {
    SamplingParams p;
    p.temperature = 0;
    p.repeat_penalty = 1.0f;
    return p;
  }

  static inline llama_model* model_ = nullptr;
};

TEST(ArgMaxTest, PicksTheFirstLargestAsTheGreedySamplerDoes) {
  auto scan = [](const std::vector<float>& v) {
    int32_t best = 0;
    for (int32_t i = 1; i < static_cast<int32_t>(v.size()); ++i) {
      if (v[i] > v[best]) best = i;
    }
    return best;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::vector<float>> cases = {
      {1.0f},
      {-kInf, -kInf, -kInf},
      {0.0f, 3.0f, 1.0f, 3.0f, 2.0f, 3.0f, 0.0f, 0.0f, 0.0f, 3.0f},
      {nan, 5.0f, 6.0f},
      {1.0f, nan, 6.0f, nan, 6.0f},
      {-0.0f, 0.0f, -1.0f},
      {-1.0f, 0.0f, -0.0f},
      {-kInf, -5.0f, kInf, 1.0f, kInf},
  };
  std::mt19937 rng(3);
  for (int n : {7, 8, 9, 31, 1024, 32000}) {
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(rng() % 100);  // many ties for the lead
    cases.push_back(v);
  }
  for (const auto& v : cases) EXPECT_EQ(ArgMax(v.data(), static_cast<int32_t>(v.size())), scan(v)) << v.size();
}

TEST_F(TokenSamplerTest, GreedyMatchesTheChain) { ExpectSamePicks(Greedy(), {}, 1, 300); }

TEST_F(TokenSamplerTest, GreedyWithBiasAndBannedTokensMatchesTheChain) {
  SamplingParams p = Greedy();
  // A token named twice, a push up, a push down and a ban through the bias itself.
  p.logit_bias = {{5, 30.0f}, {7, -kInf}, {5, -10.0f}, {900, 4.0f}, {3, -2.5f}};
  ExpectSamePicks(p, {5, 1}, 2, 300);
}

TEST_F(TokenSamplerTest, GreedyWithPenaltiesMatchesTheChain) {
  SamplingParams p = Greedy();
  p.repeat_penalty = 1.3f;
  p.repeat_last_n = 8;  // a short window, so tokens enter and leave it
  p.frequency_penalty = 0.4f;
  p.presence_penalty = 0.7f;
  p.logit_bias = {{10, 2.0f}};
  ExpectSamePicks(p, {11}, 3, 400);
  p.repeat_penalty = 0.8f;  // below 1: repeats become more likely
  p.frequency_penalty = -0.5f;
  p.repeat_last_n = 64;
  ExpectSamePicks(p, {}, 4, 300);
}

TEST_F(TokenSamplerTest, PenaltiesOverNoTokensAreOff) {
  SamplingParams p = Greedy();
  p.repeat_penalty = 1.5f;
  for (int32_t last_n : {0, -1}) {
    p.repeat_last_n = last_n;
    ExpectSamePicks(p, {}, 5, 50);
  }
}

TEST_F(TokenSamplerTest, SeededDrawsMatchTheChain) {
  SamplingParams p;  // the defaults: temperature 0.7, top_k 40, top_p 0.9, repeat penalty 1.1
  ExpectSamePicks(p, {}, 6, 200);
  p.logit_bias = {{2, 3.0f}, {4, -kInf}};
  p.presence_penalty = 0.5f;
  ExpectSamePicks(p, {1}, 7, 200);
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.05f;
  p.temperature = 1.5f;
  ExpectSamePicks(p, {}, 8, 200);
  p.top_k = 5;
  p.min_p = 0.0f;
  p.repeat_penalty = 1.0f;
  p.presence_penalty = 0.0f;
  ExpectSamePicks(p, {}, 9, 200);
}

TEST_F(TokenSamplerTest, SameSeedSameTokensOtherSeedOtherTokens) {
  SamplingParams p;
  p.temperature = 1.5f;
  p.top_k = 0;
  p.top_p = 1.0f;
  auto draw = [&](uint32_t seed) {
    TokenSampler s(vocab(), p, {}, seed);
    std::mt19937 rng(42);  // the same logits for every seed
    std::vector<llama_token> out;
    for (int i = 0; i < 60; ++i) {
      std::vector<float> logits = Logits(rng, {});
      out.push_back(s.Sample(logits.data()));
    }
    return out;
  };
  EXPECT_EQ(draw(11), draw(11));
  EXPECT_NE(draw(11), draw(12));
}

TEST_F(TokenSamplerTest, MatchesLlamaSamplerSampleOnRealLogits) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 256;
  cp.n_batch = 64;
  cp.n_threads = 2;
  cp.no_perf = true;
  LlamaContextPtr ctx(llama_init_from_model(model_, cp));
  ASSERT_TRUE(ctx);
  std::string text = "the quick brown fox jumps over the lazy dog and the quick brown fox runs";
  std::vector<llama_token> prompt(text.size() + 8);
  int32_t n = llama_tokenize(vocab(), text.c_str(), static_cast<int32_t>(text.size()), prompt.data(),
                             static_cast<int32_t>(prompt.size()), true, false);
  ASSERT_GT(n, 4);
  prompt.resize(n);
  LlamaBatch batch(64, 1);
  for (int32_t i = 0; i < n; ++i) batch.Add(prompt[i], i, 0, true);  // logits at every position
  ASSERT_EQ(llama_decode(ctx.get(), batch.get()), 0);

  SamplingParams greedy = Greedy();
  greedy.repeat_penalty = 1.2f;
  greedy.logit_bias = {{prompt[1], 1.5f}};
  SamplingParams drawn;
  drawn.seed = 5;
  for (const SamplingParams& p : {greedy, drawn}) {
    LlamaSamplerPtr ref = MakeLlamaChain(vocab(), p, {prompt[2]}, 5);
    TokenSampler mine(vocab(), p, {prompt[2]}, 5);
    for (int32_t i = 0; i < n; ++i) {
      llama_token want = llama_sampler_sample(ref.get(), ctx.get(), i);
      EXPECT_EQ(mine.Sample(llama_get_logits_ith(ctx.get(), i)), want) << "position " << i;
    }
  }
}

}  // namespace
}  // namespace llamanet::engine
