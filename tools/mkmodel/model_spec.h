// Model shapes for llamanet-mkmodel: the named presets and the weight types a model can be
// written in. A ModelSpec holds only llama-architecture hyperparameters; the tokenizer is
// built from n_vocab alone (vocab_builder.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace llamanet::mkmodel {

struct ModelSpec {
  std::string preset;        // the preset's name, e.g. "tiny"
  std::string display_name;  // general.name in the GGUF
  uint32_t n_vocab = 0;
  uint32_t n_ctx_train = 0;
  uint32_t n_embd = 0;
  uint32_t n_layer = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t n_ff = 0;
  float rope_freq_base = 10000.0f;
  float rms_norm_eps = 1e-5f;

  uint32_t head_dim() const { return n_embd / n_head; }
  // Width of the K and V projections (grouped-query attention).
  uint32_t n_embd_kv() const { return head_dim() * n_head_kv; }
  // Number of weights in all tensors of TensorLayout().
  uint64_t ParamCount() const;
};

// One tensor of a llama-architecture model. A norm is a vector of `cols` ones; a matrix has
// `rows` rows of `cols` values (GGUF's ne[0] = cols, ne[1] = rows).
struct TensorInfo {
  enum class Kind { kNorm, kMatrix };
  std::string name;
  Kind kind;
  int64_t cols;
  int64_t rows;  // 1 for a norm
  int64_t n_elements() const { return cols * rows; }
};

// Every tensor llama.cpp's llama loader expects, with the names and shapes it checks, in file
// order: token_embd, then per block attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm,
// ffn_gate, ffn_up, ffn_down, then output_norm and an untied output matrix.
std::vector<TensorInfo> TensorLayout(const ModelSpec& spec);

// The presets: "tiny" (the default, a few MB) and "tinyllama-1.1b" (TinyLlama-1.1B shapes).
// Fails with InvalidArgument naming the known presets.
Result<ModelSpec> FindPreset(std::string_view name);
inline constexpr std::string_view kDefaultPreset = "tiny";

// Checks that llama.cpp can load and quantize the shapes: heads divide the embedding, KV
// heads divide the heads, and every row (n_embd, n_ff) is a multiple of 32, the block size of
// Q4_0 and Q8_0. Fails with InvalidArgument naming the bad field.
Status Validate(const ModelSpec& spec);

enum class WeightType { kF16, kQ8_0, kQ4_0 };

// "f16", "q8_0" or "q4_0"; fails with InvalidArgument otherwise.
Result<WeightType> ParseWeightType(std::string_view name);
std::string_view WeightTypeName(WeightType type);

}  // namespace llamanet::mkmodel
