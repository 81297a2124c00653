#include "model_spec.h"

#include <array>

namespace llamanet::mkmodel {
namespace {

// Shapes of the tiny test model: small enough to load and decode in milliseconds, with
// grouped-query attention (4 heads over 2 KV heads) like the real models it stands in for.
ModelSpec TinySpec() {
  ModelSpec s;
  s.preset = "tiny";
  s.display_name = "LlamaNet tiny (random weights)";
  s.n_vocab = 1024;
  s.n_ctx_train = 2048;
  s.n_embd = 128;
  s.n_layer = 4;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_ff = 384;
  return s;
}

// TinyLlama-1.1B's published shapes, so benchmarks on random weights cost what the real
// model costs.
ModelSpec TinyLlamaSpec() {
  ModelSpec s;
  s.preset = "tinyllama-1.1b";
  s.display_name = "LlamaNet TinyLlama-1.1B shapes (random weights)";
  s.n_vocab = 32000;
  s.n_ctx_train = 2048;
  s.n_embd = 2048;
  s.n_layer = 22;
  s.n_head = 32;
  s.n_head_kv = 4;
  s.n_ff = 5632;
  s.rope_freq_base = 10000.0f;
  s.rms_norm_eps = 1e-5f;
  return s;
}

struct WeightTypeEntry {
  WeightType type;
  std::string_view name;
};
constexpr std::array<WeightTypeEntry, 3> kWeightTypes = {{
    {WeightType::kF16, "f16"},
    {WeightType::kQ8_0, "q8_0"},
    {WeightType::kQ4_0, "q4_0"},
}};

}  // namespace

uint64_t ModelSpec::ParamCount() const {
  uint64_t n = 0;
  for (const auto& t : TensorLayout(*this)) n += static_cast<uint64_t>(t.n_elements());
  return n;
}

std::vector<TensorInfo> TensorLayout(const ModelSpec& spec) {
  using Kind = TensorInfo::Kind;
  const int64_t embd = spec.n_embd, kv = spec.n_embd_kv(), ff = spec.n_ff, vocab = spec.n_vocab;
  std::vector<TensorInfo> t;
  t.reserve(3 + 9 * spec.n_layer);
  t.push_back({"token_embd.weight", Kind::kMatrix, embd, vocab});
  for (uint32_t i = 0; i < spec.n_layer; ++i) {
    const std::string blk = "blk." + std::to_string(i) + ".";
    t.push_back({blk + "attn_norm.weight", Kind::kNorm, embd, 1});
    t.push_back({blk + "attn_q.weight", Kind::kMatrix, embd, embd});
    t.push_back({blk + "attn_k.weight", Kind::kMatrix, embd, kv});
    t.push_back({blk + "attn_v.weight", Kind::kMatrix, embd, kv});
    t.push_back({blk + "attn_output.weight", Kind::kMatrix, embd, embd});
    t.push_back({blk + "ffn_norm.weight", Kind::kNorm, embd, 1});
    t.push_back({blk + "ffn_gate.weight", Kind::kMatrix, embd, ff});
    t.push_back({blk + "ffn_up.weight", Kind::kMatrix, embd, ff});
    t.push_back({blk + "ffn_down.weight", Kind::kMatrix, ff, embd});
  }
  t.push_back({"output_norm.weight", Kind::kNorm, embd, 1});
  t.push_back({"output.weight", Kind::kMatrix, embd, vocab});
  return t;
}

Result<ModelSpec> FindPreset(std::string_view name) {
  if (name == "tiny") return TinySpec();
  if (name == "tinyllama-1.1b") return TinyLlamaSpec();
  return Status::InvalidArgument("unknown preset '" + std::string(name) +
                                 "' (known: tiny, tinyllama-1.1b)");
}

Status Validate(const ModelSpec& spec) {
  // Q4_0 and Q8_0 quantize rows in blocks of 32 values.
  constexpr uint32_t kBlock = 32;
  auto bad = [&](const char* what) {
    return Status::InvalidArgument("preset '" + spec.preset + "': " + what);
  };
  if (spec.n_layer == 0) return bad("n_layer must be positive");
  if (spec.n_head == 0 || spec.n_embd % spec.n_head != 0) return bad("n_head must divide n_embd");
  if (spec.head_dim() % 2 != 0) return bad("the head size must be even for RoPE");
  if (spec.n_head_kv == 0 || spec.n_head % spec.n_head_kv != 0) {
    return bad("n_head_kv must divide n_head");
  }
  if (spec.n_embd % kBlock != 0) return bad("n_embd must be a multiple of 32");
  if (spec.n_ff == 0 || spec.n_ff % kBlock != 0) return bad("n_ff must be a multiple of 32");
  if (spec.n_ctx_train == 0) return bad("n_ctx_train must be positive");
  return Status::Ok();
}

Result<WeightType> ParseWeightType(std::string_view name) {
  for (const auto& e : kWeightTypes) {
    if (e.name == name) return e.type;
  }
  return Status::InvalidArgument("unknown type '" + std::string(name) + "' (known: f16, q8_0, q4_0)");
}

std::string_view WeightTypeName(WeightType type) {
  for (const auto& e : kWeightTypes) {
    if (e.type == type) return e.name;
  }
  return "?";
}

}  // namespace llamanet::mkmodel
