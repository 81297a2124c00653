// The real engine on the tiny F16 model that llamanet-mkmodel makes at build time.
#include "engine/llama_engine.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "engine/utf8_stream.h"

namespace llamanet::engine {
namespace {

std::unique_ptr<Engine> OpenTiny(int32_t slots = 4, int32_t max_queue = 16, int32_t n_ctx = 512) {
  LlamaEngineOptions o;
  o.model_path = LLAMANET_TINY_MODEL;
  o.n_slots = slots;
  o.n_ctx = n_ctx;
  o.max_queue = max_queue;
  o.n_threads = 1;  // no spinning thread barriers on a machine whose cores the tests share
  o.show_progress = false;
  Result<std::unique_ptr<Engine>> e = OpenLlamaEngine(o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

GenerationRequest Greedy(const std::string& prompt, int32_t max_tokens) {
  GenerationRequest r;
  r.prompt = prompt;
  r.max_tokens = max_tokens;
  r.ignore_eos = true;
  r.sampling.temperature = 0;
  r.sampling.repeat_penalty = 1.0f;
  return r;
}

GenerationEvent Generate(Engine& engine, GenerationRequest r) {
  Result<std::shared_ptr<GenerationStream>> s = engine.Submit(std::move(r));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return {};
  return (*s)->Collect();
}

class LlamaEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { engine_ = OpenTiny().release(); }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  static Engine* engine_;
};
Engine* LlamaEngineTest::engine_ = nullptr;

TEST_F(LlamaEngineTest, ReportsTheModel) {
  ModelInfo m = engine_->Model();
  EXPECT_EQ(m.name, "tiny-f16");
  EXPECT_EQ(m.n_ctx, 512);
  EXPECT_EQ(m.n_slots, 4);
  EXPECT_TRUE(m.has_chat_template);
  EXPECT_GT(m.n_params, 0u);
}

TEST_F(LlamaEngineTest, GreedyIsRepeatable) {
  GenerationEvent a = Generate(*engine_, Greedy("The quick brown fox", 32));
  GenerationEvent b = Generate(*engine_, Greedy("The quick brown fox", 32));
  EXPECT_EQ(a.result.completion_tokens, 32);
  EXPECT_FALSE(a.text.empty());
  EXPECT_EQ(a.text, b.text);
}

TEST_F(LlamaEngineTest, GreedyAloneEqualsGreedyInABatchOfFour) {
  const std::vector<std::string> prompts = {"Once upon a time", "The capital of France", "def main():",
                                            "Lorem ipsum dolor"};
  std::vector<std::string> alone;
  for (const auto& p : prompts) alone.push_back(Generate(*engine_, Greedy(p, 24)).text);

  std::vector<std::shared_ptr<GenerationStream>> streams;
  for (const auto& p : prompts) {
    Result<std::shared_ptr<GenerationStream>> s = engine_->Submit(Greedy(p, 24));
    ASSERT_TRUE(s.ok());
    streams.push_back(*s);
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(streams[i]->Collect().text, alone[i]) << "prompt " << i;
  }
}

TEST_F(LlamaEngineTest, SeededSamplingRepeatsAndSeedsDiffer) {
  auto sampled = [](uint32_t seed) {
    GenerationRequest r = Greedy("Tell me a story", 32);
    r.sampling.temperature = 1.0f;
    r.sampling.top_k = 0;
    r.sampling.top_p = 1.0f;
    r.sampling.seed = seed;
    return r;
  };
  std::string a = Generate(*engine_, sampled(42)).text;
  EXPECT_EQ(a, Generate(*engine_, sampled(42)).text);
  EXPECT_NE(a, Generate(*engine_, sampled(43)).text);
}

TEST_F(LlamaEngineTest, MaxTokensEndsWithLength) {
  GenerationEvent e = Generate(*engine_, Greedy("Count:", 7));
  EXPECT_EQ(e.result.finish_reason, FinishReason::kLength);
  EXPECT_EQ(e.result.completion_tokens, 7);
  EXPECT_GT(e.result.prompt_tokens, 1);
}

TEST_F(LlamaEngineTest, StopStringEndsTheTextBeforeIt) {
  std::string full = Generate(*engine_, Greedy("A stop test", 48)).text;
  ASSERT_GE(full.size(), 12u);
  // A stop string from the middle of the output, most likely spanning a token boundary.
  std::string stop = full.substr(full.size() / 2, 4);
  GenerationRequest r = Greedy("A stop test", 48);
  r.stop = {stop};
  GenerationEvent e = Generate(*engine_, r);
  EXPECT_EQ(e.text, full.substr(0, full.find(stop)));
  EXPECT_EQ(e.result.finish_reason, FinishReason::kStop);
  EXPECT_EQ(e.text.find(stop), std::string::npos);
}

TEST_F(LlamaEngineTest, ContextEndCutsWithLength) {
  GenerationEvent e = Generate(*engine_, Greedy("Long", 100000));
  EXPECT_EQ(e.result.finish_reason, FinishReason::kLength);
  EXPECT_EQ(e.result.prompt_tokens + e.result.completion_tokens, 512);
}

TEST_F(LlamaEngineTest, StreamedPiecesAreAlwaysValidUtf8) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    GenerationRequest r = Greedy("Unicode: é ü € 😀 ", 64);
    r.sampling.temperature = 2.0f;
    r.sampling.top_k = 0;
    r.sampling.top_p = 1.0f;
    r.sampling.seed = seed;
    Result<std::shared_ptr<GenerationStream>> s = engine_->Submit(r);
    ASSERT_TRUE(s.ok());
    bool done = false;
    while (!done) {
      std::optional<GenerationEvent> ev = (*s)->Next(std::chrono::seconds(30));
      ASSERT_TRUE(ev.has_value());
      EXPECT_TRUE(IsValidUtf8(ev->text)) << "seed " << seed;
      done = ev->done;
    }
  }
}

TEST_F(LlamaEngineTest, ChatUsesTheModelsTemplateWithExactTokenCounts) {
  GenerationRequest chat = Greedy("", 16);
  chat.messages = {{"system", "Be brief."}, {"user", "Hello"}};
  GenerationEvent via_chat = Generate(*engine_, chat);
  GenerationEvent via_text = Generate(*engine_, Greedy("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello"
                                                  "<|im_end|>\n<|im_start|>assistant\n",
                                                  16));
  EXPECT_EQ(via_chat.result.prompt_tokens, via_text.result.prompt_tokens);
  EXPECT_EQ(via_chat.text, via_text.text);
}

TEST_F(LlamaEngineTest, RejectsBadRequests) {
  GenerationRequest unknown_role = Greedy("", 4);
  unknown_role.messages = {{"wizard", "hi"}};
  EXPECT_EQ(engine_->Submit(unknown_role).status().code(), Status::Code::kInvalidArgument);

  EXPECT_EQ(engine_->Submit(Greedy("x", 0)).status().code(), Status::Code::kInvalidArgument);

  GenerationRequest hot = Greedy("x", 4);
  hot.sampling.temperature = 9;
  EXPECT_EQ(engine_->Submit(hot).status().code(), Status::Code::kInvalidArgument);

  GenerationRequest bias = Greedy("x", 4);
  bias.sampling.logit_bias = {{1 << 30, 1.0f}};
  EXPECT_EQ(engine_->Submit(bias).status().code(), Status::Code::kInvalidArgument);

  std::string long_prompt;
  for (int i = 0; i < 600; ++i) long_prompt += " word";
  Result<std::shared_ptr<GenerationStream>> too_long = engine_->Submit(Greedy(long_prompt, 4));
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("context"), std::string::npos);
}

TEST(LlamaEngineSlotsTest, CancellationFreesTheSlotForTheNextRequest) {
  std::unique_ptr<Engine> engine = OpenTiny(/*slots=*/1, /*max_queue=*/0);
  ASSERT_TRUE(engine);
  Result<std::shared_ptr<GenerationStream>> first = engine->Submit(Greedy("Endless", 100000));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Next(std::chrono::seconds(30)).has_value());  // it is generating
  EXPECT_EQ(engine->Metrics().slots_busy, 1);
  // The one slot is busy and nothing may wait: a second request is refused.
  EXPECT_EQ(engine->Submit(Greedy("x", 4)).status().code(), Status::Code::kUnavailable);

  (*first)->Cancel();
  GenerationEvent end = (*first)->Collect();
  EXPECT_EQ(end.result.finish_reason, FinishReason::kCancelled);
  EXPECT_LT(end.result.completion_tokens, 500);
  EXPECT_EQ(engine->Metrics().slots_busy, 0);

  GenerationEvent next = Generate(*engine, Greedy("Next", 8));
  EXPECT_EQ(next.result.completion_tokens, 8);
}

TEST(LlamaEngineSlotsTest, ShutdownEndsEveryStream) {
  std::unique_ptr<Engine> engine = OpenTiny(/*slots=*/1, /*max_queue=*/2);
  ASSERT_TRUE(engine);
  Result<std::shared_ptr<GenerationStream>> running = engine->Submit(Greedy("Endless", 100000));
  Result<std::shared_ptr<GenerationStream>> queued = engine->Submit(Greedy("Waiting", 8));
  ASSERT_TRUE(running.ok());
  ASSERT_TRUE(queued.ok());
  engine->Shutdown();
  EXPECT_EQ((*running)->Collect().result.finish_reason, FinishReason::kCancelled);
  GenerationEvent q = (*queued)->Collect();
  EXPECT_TRUE(q.done);
  EXPECT_EQ(engine->Submit(Greedy("late", 4)).status().code(), Status::Code::kUnavailable);
}

TEST(LlamaEngineOpenTest, MissingModelIsNotFound) {
  LlamaEngineOptions o;
  o.model_path = "/nonexistent/model.gguf";
  o.show_progress = false;
  EXPECT_EQ(OpenLlamaEngine(o).status().code(), Status::Code::kNotFound);
}

TEST(LlamaEngineOpenTest, ModelNameKeepsEveryDotButTheExtension) {
  EXPECT_EQ(ModelNameFromPath("/m/tinyllama-1.1b.Q4_K_M.gguf"), "tinyllama-1.1b.Q4_K_M");
  EXPECT_EQ(ModelNameFromPath("model"), "model");
}

}  // namespace
}  // namespace llamanet::engine
