// Tests for llamanet-mkmodel: the models it writes must load in llama.cpp with the preset's
// shapes, tokenize like a real SPM vocabulary, carry a working ChatML template, decode to
// finite logits, and be byte-identical for the same seed.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "cli_options.h"
#include "gguf.h"
#include "llama.h"
#include "model_maker.h"
#include "model_spec.h"
#include "random_weights.h"
#include "vocab_builder.h"

namespace llamanet::mkmodel {

// Names parameterized tests' WeightType in gtest output (found by argument-dependent lookup).
void PrintTo(WeightType type, std::ostream* os) { *os << WeightTypeName(type); }

namespace {

namespace fs = std::filesystem;

// llama.cpp logs every load at INFO level; the tests show only its errors.
class QuietLlama : public ::testing::Environment {
 public:
  void SetUp() override {
    llama_log_set([](ggml_log_level level, const char* text, void*) {
      if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
    }, nullptr);
    llama_backend_init();
  }
  void TearDown() override { llama_backend_free(); }
};
const auto* const kQuietLlama = ::testing::AddGlobalTestEnvironment(new QuietLlama);

struct ModelDeleter {
  void operator()(llama_model* m) const { llama_model_free(m); }
};
struct ContextDeleter {
  void operator()(llama_context* c) const { llama_free(c); }
};
struct GgufDeleter {
  void operator()(gguf_context* c) const { gguf_free(c); }
};
using ModelPtr = std::unique_ptr<llama_model, ModelDeleter>;
using ContextPtr = std::unique_ptr<llama_context, ContextDeleter>;
using GgufPtr = std::unique_ptr<gguf_context, GgufDeleter>;

ModelPtr LoadModel(const std::string& path, bool vocab_only) {
  llama_model_params params = llama_model_default_params();
  params.vocab_only = vocab_only;
  return ModelPtr(llama_model_load_from_file(path.c_str(), params));
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<llama_token> Tokenize(const llama_vocab* vocab, std::string_view text, bool add_special,
                                  bool parse_special) {
  std::vector<llama_token> tokens(text.size() + 8);
  const int32_t n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                                   static_cast<int32_t>(tokens.size()), add_special, parse_special);
  EXPECT_GE(n, 0);
  tokens.resize(static_cast<size_t>(std::max(n, 0)));
  return tokens;
}

std::string Detokenize(const llama_vocab* vocab, const std::vector<llama_token>& tokens) {
  std::string text(256, '\0');
  const int32_t n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), text.data(),
                                     static_cast<int32_t>(text.size()), /*remove_special=*/false,
                                     /*unparse_special=*/false);
  EXPECT_GE(n, 0);
  text.resize(static_cast<size_t>(std::max(n, 0)));
  return text;
}

// Each test gets its own directory, removed afterwards.
class MkModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "-" + info->name();
    std::replace(name.begin(), name.end(), '/', '-');  // parameterized names hold slashes
    dir_ = fs::temp_directory_path() / ("mkmodel_test-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Make(const std::string& name, WeightType type = WeightType::kF16, uint64_t seed = 1) {
    MakeOptions options;
    options.output = (dir_ / name).string();
    options.type = type;
    options.seed = seed;
    Result<MakeSummary> summary = MakeModel(options);
    EXPECT_TRUE(summary.ok()) << summary.status().ToString();
    return options.output;
  }

  fs::path dir_;
};

// --- command line ---------------------------------------------------------------------------

Result<CliCommand> Parse(std::vector<std::string_view> args) { return ParseCommandLine(args); }

TEST(CliOptionsTest, ParsesEveryFlagInBothForms) {
  Result<CliCommand> c = Parse({"--output", "m.gguf", "--preset=tinyllama-1.1b", "--type", "q4_0", "--seed=42"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->help);
  EXPECT_EQ(c->options.output, "m.gguf");
  EXPECT_EQ(c->options.preset, "tinyllama-1.1b");
  EXPECT_EQ(c->options.type, WeightType::kQ4_0);
  EXPECT_EQ(c->options.seed, 42u);
}

TEST(CliOptionsTest, DefaultsToTinyF16SeedOne) {
  Result<CliCommand> c = Parse({"--output=m.gguf"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->options.preset, "tiny");
  EXPECT_EQ(c->options.type, WeightType::kF16);
  EXPECT_EQ(c->options.seed, 1u);
}

TEST(CliOptionsTest, HelpNeedsNoOutput) {
  Result<CliCommand> c = Parse({"--help"});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->help);
  EXPECT_NE(Usage().find("--preset"), std::string::npos);
}

TEST(CliOptionsTest, RejectsBadUsageWithOneLine) {
  const struct {
    std::vector<std::string_view> args;
    std::string_view message_part;
  } cases[] = {
      {{"--output", "m", "--preset", "huge"}, "unknown preset 'huge'"},
      {{"--output", "m", "--type", "q5_k"}, "unknown type 'q5_k'"},
      {{"--output", "m", "--seed", "-1"}, "bad --seed '-1'"},
      {{"--output", "m", "--seed", "12x"}, "bad --seed '12x'"},
      {{"--output", "m", "--seed="}, "bad --seed ''"},
      {{"--output", "m", "--colour", "red"}, "unknown option '--colour'"},
      {{"--output", "m", "extra"}, "unexpected argument 'extra'"},
      {{"--output"}, "--output needs a value"},
      {{"--output", "--type", "f16"}, "--output needs a value"},
      {{"--output="}, "--output needs a value"},
      {{"--preset", "tiny"}, "--output PATH is required"},
      {{}, "--output PATH is required"},
  };
  for (const auto& c : cases) {
    Result<CliCommand> r = Parse(c.args);
    ASSERT_FALSE(r.ok()) << c.message_part;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
}

int RunTool(const std::string& args) {
  const std::string command = std::string(LLAMANET_MKMODEL_BIN) + " " + args + " >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(MkModelTest, ToolExitStatus) {
  EXPECT_EQ(RunTool("--help"), 0);
  EXPECT_EQ(RunTool("--output x.gguf --preset huge"), 2);
  EXPECT_EQ(RunTool("--output x.gguf --type q2"), 2);
  EXPECT_EQ(RunTool(""), 2);
  // An I/O failure: the directory does not exist.
  EXPECT_EQ(RunTool("--output " + (dir_ / "missing" / "m.gguf").string()), 1);
  const std::string out = (dir_ / "m.gguf").string();
  EXPECT_EQ(RunTool("--output " + out + " --seed 3"), 0);
  EXPECT_TRUE(fs::exists(out));
}

// --- building blocks ------------------------------------------------------------------------

TEST(ModelSpecTest, PresetsAreValidAndCountTheirParameters) {
  for (const char* name : {"tiny", "tinyllama-1.1b"}) {
    Result<ModelSpec> spec = FindPreset(name);
    ASSERT_TRUE(spec.ok()) << name;
    EXPECT_TRUE(Validate(*spec).ok()) << Validate(*spec).ToString();
  }
  // TinyLlama-1.1B's well-known parameter count.
  EXPECT_EQ(FindPreset("tinyllama-1.1b")->ParamCount(), 1100048384u);
}

TEST(ModelSpecTest, ValidateNamesTheBadField) {
  ModelSpec spec = *FindPreset("tiny");
  spec.n_ff = 100;
  EXPECT_NE(Validate(spec).message().find("n_ff"), std::string::npos);
  spec = *FindPreset("tiny");
  spec.n_head_kv = 3;
  EXPECT_NE(Validate(spec).message().find("n_head_kv"), std::string::npos);
}

TEST(RandomWeightsTest, StreamIsPinnedAndNormalShaped) {
  // Pinned outputs: if these change, every model file made from a given seed changes. The F16
  // values are the IEEE-754 half encodings of -0x1.25c17ep-9, 0x1.eacfaep-7, -0x1.36cc98p-9.
  Xoshiro256 rng(1, 0);
  EXPECT_EQ(rng.Next(), 17154914556750032435u);
  EXPECT_EQ(rng.Next(), 15481925071032317162u);
  Xoshiro256 other_stream(1, 1);
  EXPECT_NE(other_stream.Next(), 17154914556750032435u);
  const NormalF16Sampler sampler(0.02f);
  Xoshiro256 pinned(1, 0);
  ggml_fp16_t first[3];
  sampler.Fill(pinned, first);
  EXPECT_EQ(first[0], 0x9897);
  EXPECT_EQ(first[1], 0x23ab);
  EXPECT_EQ(first[2], 0x98db);

  std::vector<ggml_fp16_t> v(200000);
  Xoshiro256 gen(7, 0);
  sampler.Fill(gen, v);
  double sum = 0, sq = 0;
  float peak = 0;
  for (ggml_fp16_t h : v) {
    const float x = ggml_fp16_to_fp32(h);
    sum += x;
    sq += double(x) * x;
    peak = std::max(peak, std::fabs(x));
  }
  const double mean = sum / v.size();
  const double stddev = std::sqrt(sq / v.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.0005);
  EXPECT_NEAR(stddev, 0.02, 0.0005);
  EXPECT_LE(peak, 0.02f * 3.47f);
}

TEST(VocabBuilderTest, LaysOutSpecialByteAndNormalTokens) {
  Result<Vocab> v = BuildVocab(1024);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->tokens.size(), 1024u);
  ASSERT_EQ(v->scores.size(), 1024u);
  ASSERT_EQ(v->types.size(), 1024u);
  EXPECT_EQ(v->tokens[v->unk_id], "<unk>");
  EXPECT_EQ(v->tokens[v->bos_id], "<s>");
  EXPECT_EQ(v->tokens[v->eos_id], "</s>");
  EXPECT_EQ(v->tokens[v->im_start_id], "<|im_start|>");
  EXPECT_EQ(v->tokens[v->im_end_id], "<|im_end|>");
  EXPECT_EQ(v->tokens[3], "<0x00>");
  EXPECT_EQ(v->tokens[258], "<0xFF>");
  EXPECT_EQ(v->types[3], LLAMA_TOKEN_TYPE_BYTE);
  EXPECT_EQ(v->types[v->im_start_id], LLAMA_TOKEN_TYPE_CONTROL);
  std::vector<std::string> sorted = v->tokens;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "duplicate token";
}

TEST(VocabBuilderTest, ScoresRankLongerPiecesHigher) {
  Result<Vocab> v = BuildVocab(1024);
  ASSERT_TRUE(v.ok());
  auto chars = [](const std::string& s) {
    return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
  };
  for (size_t a = 0; a < v->tokens.size(); ++a) {
    for (size_t b = 0; b < v->tokens.size(); ++b) {
      if (v->types[a] != LLAMA_TOKEN_TYPE_NORMAL || v->types[b] != LLAMA_TOKEN_TYPE_NORMAL) continue;
      if (chars(v->tokens[a]) > chars(v->tokens[b])) {
        ASSERT_GT(v->scores[a], v->scores[b]) << v->tokens[a] << " vs " << v->tokens[b];
      }
    }
  }
}

TEST(VocabBuilderTest, FillsLargeVocabulariesWithUniquePrefixClosedPieces) {
  Result<Vocab> v = BuildVocab(32000);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->tokens.size(), 32000u);
  std::vector<std::string> sorted = v->tokens;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "duplicate token";
  // Every normal piece can be grown one character at a time by SPM merges: the piece less its
  // last character is a piece too.
  for (size_t i = 0; i < v->tokens.size(); ++i) {
    if (v->types[i] != LLAMA_TOKEN_TYPE_NORMAL) continue;
    const std::string& piece = v->tokens[i];
    size_t last = piece.size() - 1;
    while (last > 0 && (static_cast<unsigned char>(piece[last]) & 0xC0) == 0x80) --last;
    if (last == 0) continue;
    EXPECT_TRUE(std::binary_search(sorted.begin(), sorted.end(), piece.substr(0, last))) << piece;
  }
  EXPECT_TRUE(std::binary_search(sorted.begin(), sorted.end(), "\xE2\x96\x81the"));
  EXPECT_TRUE(std::binary_search(sorted.begin(), sorted.end(), "\xE2\x96\x81The"));
  EXPECT_FALSE(BuildVocab(MinVocabSize() - 1).ok());
  EXPECT_TRUE(BuildVocab(MinVocabSize()).ok());
}

// --- the models, loaded by llama.cpp ----------------------------------------------------------

TEST_F(MkModelTest, TinyF16LoadsWithThePresetShapes) {
  const std::string path = Make("tiny.gguf");
  ModelPtr model = LoadModel(path, /*vocab_only=*/false);
  ASSERT_TRUE(model);
  const ModelSpec spec = *FindPreset("tiny");
  const llama_vocab* vocab = llama_model_get_vocab(model.get());
  EXPECT_EQ(llama_vocab_n_tokens(vocab), static_cast<int32_t>(spec.n_vocab));
  EXPECT_EQ(llama_model_n_layer(model.get()), static_cast<int32_t>(spec.n_layer));
  EXPECT_EQ(llama_model_n_embd(model.get()), static_cast<int32_t>(spec.n_embd));
  EXPECT_EQ(llama_model_n_head(model.get()), static_cast<int32_t>(spec.n_head));
  EXPECT_EQ(llama_model_n_head_kv(model.get()), static_cast<int32_t>(spec.n_head_kv));
  EXPECT_EQ(llama_model_n_ctx_train(model.get()), static_cast<int32_t>(spec.n_ctx_train));
  EXPECT_EQ(llama_model_n_params(model.get()), spec.ParamCount());
  EXPECT_EQ(llama_model_ftype(model.get()), LLAMA_FTYPE_MOSTLY_F16);
  EXPECT_EQ(llama_vocab_type(vocab), LLAMA_VOCAB_TYPE_SPM);
  EXPECT_EQ(llama_vocab_bos(vocab), 1);
  EXPECT_EQ(llama_vocab_eos(vocab), 2);
  EXPECT_EQ(llama_vocab_eot(vocab), static_cast<llama_token>(spec.n_vocab - 1));
  EXPECT_TRUE(llama_vocab_get_add_bos(vocab));
  EXPECT_FALSE(llama_vocab_get_add_eos(vocab));
  EXPECT_LT(fs::file_size(path), 4u << 20);
}

TEST_F(MkModelTest, ChatTemplateFormatsChatMl) {
  ModelPtr model = LoadModel(Make("tiny.gguf"), /*vocab_only=*/true);
  ASSERT_TRUE(model);
  const char* tmpl = llama_model_chat_template(model.get(), nullptr);
  ASSERT_NE(tmpl, nullptr);
  EXPECT_STREQ(tmpl, kChatMlTemplate);
  const llama_chat_message chat[] = {{"system", "Be brief."}, {"user", "Hello!"}};
  std::string out(512, '\0');
  const int32_t n = llama_chat_apply_template(tmpl, chat, 2, /*add_ass=*/true, out.data(), int32_t(out.size()));
  ASSERT_GT(n, 0);
  out.resize(size_t(n));
  EXPECT_EQ(out,
            "<|im_start|>system\nBe brief.<|im_end|>\n"
            "<|im_start|>user\nHello!<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST_F(MkModelTest, ChatMlMarkersAreSingleControlTokens) {
  ModelPtr model = LoadModel(Make("tiny.gguf"), /*vocab_only=*/true);
  ASSERT_TRUE(model);
  const llama_vocab* vocab = llama_model_get_vocab(model.get());
  const auto start = Tokenize(vocab, "<|im_start|>", false, /*parse_special=*/true);
  ASSERT_EQ(start.size(), 1u);
  EXPECT_EQ(llama_vocab_get_attr(vocab, start[0]) & LLAMA_TOKEN_ATTR_CONTROL, LLAMA_TOKEN_ATTR_CONTROL);
  const auto end = Tokenize(vocab, "<|im_end|>", false, /*parse_special=*/true);
  ASSERT_EQ(end.size(), 1u);
  EXPECT_TRUE(llama_vocab_is_eog(vocab, end[0]));
  // Without parse_special the markers are plain text, never the control tokens.
  for (llama_token t : Tokenize(vocab, "<|im_start|>", false, /*parse_special=*/false)) {
    EXPECT_NE(t, start[0]);
  }
}

TEST_F(MkModelTest, RareCharactersFallBackToBytesAndRoundTrip) {
  ModelPtr model = LoadModel(Make("tiny.gguf"), /*vocab_only=*/true);
  ASSERT_TRUE(model);
  const llama_vocab* vocab = llama_model_get_vocab(model.get());
  const std::string llama_emoji = "\xF0\x9F\xA6\x99";  // U+1F999, four UTF-8 bytes
  const auto tokens = Tokenize(vocab, llama_emoji, false, false);
  // "▁" (the prefixed space), then one byte token per UTF-8 byte.
  ASSERT_EQ(tokens.size(), 5u);
  for (size_t i = 1; i < tokens.size(); ++i) {
    EXPECT_EQ(llama_vocab_get_attr(vocab, tokens[i]) & LLAMA_TOKEN_ATTR_BYTE, LLAMA_TOKEN_ATTR_BYTE);
  }
  EXPECT_STREQ(llama_vocab_get_text(vocab, tokens[1]), "<0xF0>");
  EXPECT_EQ(Detokenize(vocab, tokens), llama_emoji);
  const std::string mixed = "Snow \xE2\x98\x83 and a llama \xF0\x9F\xA6\x99.\nThe end";
  EXPECT_EQ(Detokenize(vocab, Tokenize(vocab, mixed, false, false)), mixed);
}

TEST_F(MkModelTest, EnglishTextTokenizesIntoWordPieces) {
  ModelPtr model = LoadModel(Make("tiny.gguf"), /*vocab_only=*/true);
  ASSERT_TRUE(model);
  const llama_vocab* vocab = llama_model_get_vocab(model.get());
  const auto tokens = Tokenize(vocab, "the people of the world", false, false);
  std::vector<std::string> pieces;
  for (llama_token t : tokens) pieces.emplace_back(llama_vocab_get_text(vocab, t));
  const std::string ws = "\xE2\x96\x81";
  EXPECT_EQ(pieces, (std::vector<std::string>{ws + "the", ws + "people", ws + "of", ws + "the", ws + "world"}));
  // With BOS added, as llama.cpp does for prompts.
  const auto with_bos = Tokenize(vocab, "Hello", true, false);
  ASSERT_FALSE(with_bos.empty());
  EXPECT_EQ(with_bos[0], llama_vocab_bos(vocab));
}

TEST_F(MkModelTest, SameSeedSameBytesOtherSeedOtherBytes) {
  const std::string a = ReadFile(Make("a.gguf", WeightType::kF16, 7));
  const std::string b = ReadFile(Make("b.gguf", WeightType::kF16, 7));
  const std::string c = ReadFile(Make("c.gguf", WeightType::kF16, 8));
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(a == b);
  EXPECT_EQ(a.size(), c.size());
  EXPECT_FALSE(a == c);
  EXPECT_TRUE(ReadFile(Make("q1.gguf", WeightType::kQ4_0, 7)) == ReadFile(Make("q2.gguf", WeightType::kQ4_0, 7)));
}

TEST_F(MkModelTest, FailureLeavesNothingBehind) {
  MakeOptions options;
  options.output = (dir_ / "missing" / "m.gguf").string();
  Result<MakeSummary> r = MakeModel(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIoError);
  options.output = (dir_ / "m.gguf").string();
  options.preset = "huge";
  EXPECT_EQ(MakeModel(options).status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(MkModelTest, ReplacesAnExistingFile) {
  const std::string path = (dir_ / "m.gguf").string();
  std::ofstream(path) << "old";
  Make("m.gguf");
  ModelPtr model = LoadModel(path, /*vocab_only=*/true);
  EXPECT_TRUE(model);
}

class QuantizedTest : public MkModelTest, public ::testing::WithParamInterface<WeightType> {};

TEST_P(QuantizedTest, LoadsWithTheQuantizedFileType) {
  const WeightType type = GetParam();
  const std::string path = Make("tiny-q.gguf", type);
  // Only the model is left: the F16 and quantizer temporaries are gone.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
  ModelPtr model = LoadModel(path, /*vocab_only=*/false);
  ASSERT_TRUE(model);
  const bool q8 = type == WeightType::kQ8_0;
  EXPECT_EQ(llama_model_ftype(model.get()), q8 ? LLAMA_FTYPE_MOSTLY_Q8_0 : LLAMA_FTYPE_MOSTLY_Q4_0);
  EXPECT_EQ(llama_vocab_n_tokens(llama_model_get_vocab(model.get())), 1024);

  gguf_init_params params = {/*no_alloc=*/true, /*ctx=*/nullptr};
  GgufPtr gguf(gguf_init_from_file(path.c_str(), params));
  ASSERT_TRUE(gguf);
  const int64_t q = gguf_find_tensor(gguf.get(), "blk.0.attn_q.weight");
  ASSERT_GE(q, 0);
  EXPECT_EQ(gguf_get_tensor_type(gguf.get(), q), q8 ? GGML_TYPE_Q8_0 : GGML_TYPE_Q4_0);
  const int64_t norm = gguf_find_tensor(gguf.get(), "blk.0.attn_norm.weight");
  ASSERT_GE(norm, 0);
  EXPECT_EQ(gguf_get_tensor_type(gguf.get(), norm), GGML_TYPE_F32);
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizedTest, ::testing::Values(WeightType::kQ8_0, WeightType::kQ4_0),
                         [](const auto& info) { return std::string(WeightTypeName(info.param)); });

TEST_F(MkModelTest, GreedyDecodeGivesFiniteVariedLogits) {
  ModelPtr model = LoadModel(Make("tiny.gguf"), /*vocab_only=*/false);
  ASSERT_TRUE(model);
  const llama_vocab* vocab = llama_model_get_vocab(model.get());
  llama_context_params cparams = llama_context_default_params();
  cparams.n_ctx = 128;
  cparams.n_batch = 128;
  cparams.n_threads = 2;
  cparams.n_threads_batch = 2;
  ContextPtr ctx(llama_init_from_model(model.get(), cparams));
  ASSERT_TRUE(ctx);

  std::vector<llama_token> tokens = Tokenize(vocab, "Hello, how are you?", true, false);
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);
  for (int step = 0; step < 4; ++step) {
    llama_batch batch = step == 0 ? llama_batch_get_one(tokens.data(), int32_t(tokens.size()))
                                  : llama_batch_get_one(&tokens.back(), 1);
    ASSERT_EQ(llama_decode(ctx.get(), batch), 0);
    const float* logits = llama_get_logits_ith(ctx.get(), -1);
    ASSERT_NE(logits, nullptr);
    ASSERT_TRUE(std::all_of(logits, logits + n_vocab, [](float x) { return std::isfinite(x); }));
    const auto [lo, hi] = std::minmax_element(logits, logits + n_vocab);
    EXPECT_GT(*hi - *lo, 0.01f) << "logits are flat: the weights carry no signal";
    tokens.push_back(static_cast<llama_token>(std::max_element(logits, logits + n_vocab) - logits));
  }
}

}  // namespace
}  // namespace llamanet::mkmodel
