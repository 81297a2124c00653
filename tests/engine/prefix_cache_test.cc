// The engine's prefix cache on the tiny model: conversations reuse what their earlier turns
// left in a slot, in another slot or in the host store, and greedy output is token for token
// what an engine without the cache gives, under batching, up to near ties (see below).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/llama_engine.h"

namespace llamanet::engine {
namespace {

std::unique_ptr<Engine> Open(int32_t slots, bool prefix_cache, size_t cache_ram_bytes) {
  LlamaEngineOptions o;
  o.model_path = LLAMANET_TINY_MODEL;
  o.n_slots = slots;
  o.n_ctx = 1024;
  o.n_threads = 1;
  o.show_progress = false;
  o.prefix_cache = prefix_cache;
  o.cache_ram_bytes = cache_ram_bytes;
  Result<std::unique_ptr<Engine>> e = OpenLlamaEngine(o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

GenerationRequest Turn(const std::vector<ChatMessage>& history, uint64_t conversation) {
  GenerationRequest r;
  r.messages = history;
  r.max_tokens = 12;
  r.ignore_eos = true;
  r.sampling.temperature = 0;
  r.sampling.repeat_penalty = 1.0f;
  r.conversation = conversation;
  r.logprobs = true;
  r.top_logprobs = 2;
  return r;
}

// Greedy output with and without the cache must agree token for token, except where the
// model's two best tokens are a near tie: a KV cache computed in another batch shape differs in
// the last float bits, which can tip such a tie (the random tiny model has many, and which
// ones tip depends on the CPU's SIMD paths). From such a tie on, the texts may differ.
constexpr float kNearTie = 0.01f;

void ExpectSameGreedyOutput(const GenerationEvent& with, const GenerationEvent& without, const std::string& where) {
  ASSERT_EQ(with.logprobs.size(), static_cast<size_t>(with.result.completion_tokens)) << where;
  ASSERT_EQ(without.logprobs.size(), static_cast<size_t>(without.result.completion_tokens)) << where;
  for (size_t i = 0; i < std::min(with.logprobs.size(), without.logprobs.size()); ++i) {
    const TokenLogprobs& a = with.logprobs[i];
    const TokenLogprobs& b = without.logprobs[i];
    ASSERT_EQ(a.top.size(), 2u);
    if (a.chosen.piece == b.chosen.piece) {
      EXPECT_NEAR(a.chosen.logprob, b.chosen.logprob, kNearTie) << where << ", token " << i;
      continue;
    }
    EXPECT_LT(a.top[0].logprob - a.top[1].logprob, kNearTie)
        << where << ", token " << i << ": the outputs part where the model had a clear favourite";
    return;
  }
  EXPECT_EQ(with.text, without.text) << where;
}

// Runs every request together (one batch as far as the slots allow) and returns the results
// in order.
std::vector<GenerationEvent> RunTogether(Engine& engine, const std::vector<GenerationRequest>& requests) {
  std::vector<std::shared_ptr<GenerationStream>> streams;
  for (const GenerationRequest& r : requests) {
    Result<std::shared_ptr<GenerationStream>> s = engine.Submit(r);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) streams.push_back(*s);
  }
  std::vector<GenerationEvent> out;
  for (auto& s : streams) out.push_back(s->Collect());
  return out;
}

TEST(PrefixCacheTest, MoreConversationsThanSlotsKeepTheirCachesAndMatchAnEngineWithout) {
  constexpr int kConversations = 6, kTurns = 4, kSlots = 2;
  std::unique_ptr<Engine> cached = Open(kSlots, true, size_t{256} << 20);
  std::unique_ptr<Engine> plain = Open(kSlots, false, 0);
  ASSERT_TRUE(cached && plain);

  std::vector<std::vector<ChatMessage>> histories(kConversations);
  for (int c = 0; c < kConversations; ++c) {
    histories[c] = {{"system", "You are assistant number " + std::to_string(c) + "."},
                    {"user", "Tell me about topic " + std::to_string(c * 7) + " in a few words."}};
  }
  for (int turn = 0; turn < kTurns; ++turn) {
    std::vector<GenerationRequest> requests;
    for (int c = 0; c < kConversations; ++c) requests.push_back(Turn(histories[c], 1000 + c));
    std::vector<GenerationEvent> with = RunTogether(*cached, requests);
    std::vector<GenerationEvent> without = RunTogether(*plain, requests);
    ASSERT_EQ(with.size(), requests.size());
    ASSERT_EQ(without.size(), requests.size());
    for (int c = 0; c < kConversations; ++c) {
      ExpectSameGreedyOutput(with[c], without[c], "conversation " + std::to_string(c) + ", turn " + std::to_string(turn));
      EXPECT_EQ(with[c].result.prompt_tokens, without[c].result.prompt_tokens);
      EXPECT_EQ(without[c].result.cached_tokens, 0);
      if (turn > 0) {
        // Everything but the new user message and the template's markers around it was cached.
        EXPECT_GT(with[c].result.cached_tokens, with[c].result.prompt_tokens / 2) << "conversation " << c;
        EXPECT_LT(with[c].result.cached_tokens, with[c].result.prompt_tokens);
      }
      histories[c].push_back({"assistant", with[c].text});
      histories[c].push_back({"user", "And then, step " + std::to_string(turn) + "?"});
    }
  }
  EngineMetrics m = cached->Metrics();
  // Every later turn hits; first turns may too, on the template's and system prompt's opening.
  EXPECT_EQ(m.prefix_hits + m.prefix_misses, static_cast<uint64_t>(kConversations * kTurns));
  EXPECT_GE(m.prefix_hits, static_cast<uint64_t>(kConversations * (kTurns - 1)));
  EXPECT_GT(m.cached_tokens_total, 0u);
  // Six conversations on two slots: at least four live in the host store between turns.
  EXPECT_GE(m.cache_ram_entries, static_cast<uint64_t>(kConversations - kSlots));
  EXPECT_GT(m.cache_ram_bytes, 0u);
  EXPECT_LE(m.cache_ram_bytes, m.cache_ram_capacity);
  EXPECT_EQ(plain->Metrics().prefix_hits, 0u);
  EXPECT_EQ(plain->Metrics().cache_ram_entries, 0u);

  // The engine says which conversations it holds, as cache-aware routing asks.
  EXPECT_GT(cached->CachedTokensFor(1000), 0);
  EXPECT_EQ(cached->CachedTokensFor(999), 0);
  EXPECT_EQ(plain->CachedTokensFor(1000), 0);
}

TEST(PrefixCacheTest, ARequestCopiesAPrefixFromABusySlot) {
  std::unique_ptr<Engine> cached = Open(2, true, 0);
  std::unique_ptr<Engine> plain = Open(2, false, 0);
  ASSERT_TRUE(cached && plain);
  std::string shared = "A shared preamble that both requests begin with, long enough to be worth reusing: ";
  for (int i = 0; i < 6; ++i) shared += "clause " + std::to_string(i) + " of the agreement; ";
  GenerationRequest first = Turn({}, 0), second = Turn({}, 0);
  first.prompt = shared + "first question";
  first.max_tokens = 200;
  second.prompt = shared + "second question";

  Result<std::shared_ptr<GenerationStream>> running = cached->Submit(first);
  ASSERT_TRUE(running.ok());
  ASSERT_TRUE((*running)->Next(std::chrono::seconds(30)).has_value());  // its prompt is in its slot
  GenerationEvent copied = RunTogether(*cached, {second})[0];
  GenerationEvent reference = RunTogether(*plain, {second})[0];
  (*running)->Cancel();
  (*running)->Collect();
  EXPECT_GT(copied.result.cached_tokens, copied.result.prompt_tokens / 2);
  ExpectSameGreedyOutput(copied, reference, "the copied prefix");
}

TEST(PrefixCacheTest, WithoutTheStoreASlotsOwnCacheStillServesTheNextTurn) {
  std::unique_ptr<Engine> cached = Open(1, true, 0);
  ASSERT_TRUE(cached);
  std::vector<ChatMessage> history = {{"user", "Hello there, how are you today?"}};
  GenerationEvent one = RunTogether(*cached, {Turn(history, 7)})[0];
  history.push_back({"assistant", one.text});
  history.push_back({"user", "Fine, thanks."});
  GenerationEvent two = RunTogether(*cached, {Turn(history, 7)})[0];
  EXPECT_EQ(one.result.cached_tokens, 0);
  EXPECT_GT(two.result.cached_tokens, one.result.prompt_tokens / 2);
  EXPECT_EQ(cached->Metrics().cache_ram_capacity, 0u);
}

}  // namespace
}  // namespace llamanet::engine
