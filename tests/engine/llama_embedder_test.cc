// The real embedder on the tiny F16 model, sharing the model with a generation engine.
#include "engine/llama_embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <future>
#include <string>
#include <vector>

#include "engine/llama_engine.h"
#include "engine/model_loader.h"

namespace llamanet::engine {
namespace {

std::shared_ptr<llama_model> LoadTiny() {
  ModelLoadOptions lo;
  lo.path = LLAMANET_TINY_MODEL;
  lo.show_progress = false;
  Result<LlamaModelPtr> m = LoadModel(lo);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::shared_ptr<llama_model>(std::move(m).value()) : nullptr;
}

std::unique_ptr<Embedder> OpenOn(std::shared_ptr<llama_model> model, int32_t n_ctx = 128, int32_t n_seq_max = 8) {
  LlamaEmbedderOptions o;
  o.n_ctx = n_ctx;
  o.n_seq_max = n_seq_max;
  o.n_threads = 1;
  Result<std::unique_ptr<Embedder>> e = OpenLlamaEmbedder(std::move(model), o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

double Norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
  return d;
}

class LlamaEmbedderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new std::shared_ptr<llama_model>(LoadTiny());
    embedder_ = OpenOn(*model_).release();
  }
  static void TearDownTestSuite() {
    delete embedder_;
    delete model_;
  }
  static std::shared_ptr<llama_model>* model_;
  static Embedder* embedder_;
};
std::shared_ptr<llama_model>* LlamaEmbedderTest::model_ = nullptr;
Embedder* LlamaEmbedderTest::embedder_ = nullptr;

TEST_F(LlamaEmbedderTest, VectorsAreNormalizedAndSized) {
  ASSERT_NE(embedder_, nullptr);
  EXPECT_EQ(embedder_->Dimensions(), llama_model_n_embd_out(model_->get()));
  Result<Embeddings> e = embedder_->Embed({"The quick brown fox", "jumps over the lazy dog"});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->vectors.size(), 2u);
  for (const std::vector<float>& v : e->vectors) {
    ASSERT_EQ(static_cast<int32_t>(v.size()), embedder_->Dimensions());
    for (float x : v) ASSERT_TRUE(std::isfinite(x));
    EXPECT_NEAR(Norm(v), 1.0, 1e-4);
  }
  EXPECT_GT(e->prompt_tokens, 4);
}

TEST_F(LlamaEmbedderTest, SameTextSameVectorDistinctTextsDiffer) {
  Result<Embeddings> a = embedder_->Embed({"hello world"});
  Result<Embeddings> b = embedder_->Embed({"hello world"});
  Result<Embeddings> c = embedder_->Embed({"a completely different sentence about boats"});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_LT(MaxDiff(a->vectors[0], b->vectors[0]), 1e-5);
  EXPECT_GT(MaxDiff(a->vectors[0], c->vectors[0]), 1e-3);
}

// Inputs decoded together, each its own sequence, give what each gives alone.
TEST_F(LlamaEmbedderTest, BatchEqualsSingles) {
  const std::vector<std::string> texts = {"one", "two words", "three words here", "a somewhat longer input of text",
                                          "five", "six six", "seven is a number", "eight", "nine nine nine", "ten"};
  EmbedderMetrics start = embedder_->Metrics();
  Result<Embeddings> together = embedder_->Embed(texts);
  ASSERT_TRUE(together.ok()) << together.status().ToString();
  EmbedderMetrics before = embedder_->Metrics();
  // Ten short inputs, eight sequences per decode: two decodes.
  EXPECT_EQ(before.decodes_total - start.decodes_total, 2u);
  int32_t tokens = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    Result<Embeddings> alone = embedder_->Embed({texts[i]});
    ASSERT_TRUE(alone.ok());
    EXPECT_LT(MaxDiff(together->vectors[i], alone->vectors[0]), 1e-4) << texts[i];
    tokens += alone->prompt_tokens;
  }
  EXPECT_EQ(together->prompt_tokens, tokens);
  EXPECT_EQ(embedder_->Metrics().decodes_total - before.decodes_total, texts.size());
}

// Requests arriving together are all answered, each with its own vectors, whichever decode
// their inputs landed in.
TEST_F(LlamaEmbedderTest, ConcurrentRequestsAreEachAnsweredWithTheirOwnVectors) {
  Result<Embeddings> alone = embedder_->Embed({"request 5", "second input of 5"});
  ASSERT_TRUE(alone.ok());
  EmbedderMetrics before = embedder_->Metrics();
  std::vector<std::future<Result<Embeddings>>> calls;
  for (int i = 0; i < 16; ++i) {
    calls.push_back(std::async(std::launch::async, [i] {
      return embedder_->Embed({"request " + std::to_string(i), "second input of " + std::to_string(i)});
    }));
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    Result<Embeddings> r = calls[i].get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->vectors.size(), 2u);
    if (i == 5) {
      EXPECT_LT(MaxDiff(r->vectors[0], alone->vectors[0]), 1e-4);
      EXPECT_LT(MaxDiff(r->vectors[1], alone->vectors[1]), 1e-4);
    }
  }
  EmbedderMetrics after = embedder_->Metrics();
  EXPECT_EQ(after.inputs_total - before.inputs_total, 32u);
  EXPECT_EQ(after.requests_total - before.requests_total, 16u);
  EXPECT_LE(after.decodes_total - before.decodes_total, 16u);  // a request's two inputs share one
}

TEST_F(LlamaEmbedderTest, RefusesBadInputNamingIt) {
  Result<Embeddings> empty_list = embedder_->Embed({});
  EXPECT_EQ(empty_list.status().code(), Status::Code::kInvalidArgument);
  Result<Embeddings> empty = embedder_->Embed({"fine", ""});
  EXPECT_EQ(empty.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("input[1]"), std::string::npos) << empty.status().message();
  std::string lengthy;
  for (int i = 0; i < 400; ++i) lengthy += "word ";
  Result<Embeddings> too_long = embedder_->Embed({lengthy});
  EXPECT_EQ(too_long.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(too_long.status().message().find("input[0]"), std::string::npos) << too_long.status().message();
  EXPECT_NE(too_long.status().message().find("128 tokens"), std::string::npos) << too_long.status().message();
  std::vector<std::string> many(2049, "x");
  EXPECT_EQ(embedder_->Embed(many).status().code(), Status::Code::kInvalidArgument);
}

// The embedder and the generation engine run on one loaded model, at the same time.
TEST_F(LlamaEmbedderTest, SharesTheModelWithGeneration) {
  LlamaEngineOptions eo;
  eo.model_path = LLAMANET_TINY_MODEL;
  eo.n_slots = 2;
  eo.n_ctx = 128;
  eo.n_threads = 1;
  eo.show_progress = false;
  Result<std::unique_ptr<Engine>> engine = OpenLlamaEngine(eo, *model_, 0.0);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  GenerationRequest g;
  g.prompt = "Once upon a time";
  g.max_tokens = 16;
  g.ignore_eos = true;
  g.sampling.temperature = 0;
  Result<std::shared_ptr<GenerationStream>> stream = (*engine)->Submit(g);
  ASSERT_TRUE(stream.ok());
  Result<Embeddings> before = embedder_->Embed({"while generating"});
  GenerationEvent done = (*stream)->Collect();
  EXPECT_EQ(done.result.completion_tokens, 16);
  Result<Embeddings> after = embedder_->Embed({"while generating"});
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_LT(MaxDiff(before->vectors[0], after->vectors[0]), 1e-5);
}

TEST(LlamaEmbedderShutdown, RefusesAfterShutdown) {
  std::unique_ptr<Embedder> e = OpenOn(LoadTiny());
  ASSERT_NE(e, nullptr);
  e->Shutdown();
  EXPECT_EQ(e->Embed({"late"}).status().code(), Status::Code::kCancelled);
}

TEST(LlamaEmbedderPooling, DecoderModelWithoutPoolingMeans) {
  std::shared_ptr<llama_model> m = LoadTiny();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(EmbeddingPooling(m.get()), LLAMA_POOLING_TYPE_MEAN);
}

}  // namespace
}  // namespace llamanet::engine
