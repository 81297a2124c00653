#include "gguf_model_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "ggml.h"
#include "gguf.h"
#include "llama.h"
#include "random_weights.h"

namespace llamanet::mkmodel {
namespace {

struct GgufDeleter {
  void operator()(gguf_context* c) const { gguf_free(c); }
};
struct GgmlDeleter {
  void operator()(ggml_context* c) const { ggml_free(c); }
};
struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using GgufPtr = std::unique_ptr<gguf_context, GgufDeleter>;
using GgmlPtr = std::unique_ptr<ggml_context, GgmlDeleter>;
using FilePtr = std::unique_ptr<FILE, FileCloser>;

// Values generated and written per chunk: 256 KiB of F16, large enough for fast fwrite.
constexpr size_t kChunkElements = 128 * 1024;

void SetHyperparameters(gguf_context* ctx, const ModelSpec& spec) {
  gguf_set_val_str(ctx, "general.architecture", "llama");
  gguf_set_val_str(ctx, "general.name", spec.display_name.c_str());
  gguf_set_val_u32(ctx, "general.file_type", LLAMA_FTYPE_MOSTLY_F16);
  gguf_set_val_u32(ctx, "llama.vocab_size", spec.n_vocab);
  gguf_set_val_u32(ctx, "llama.context_length", spec.n_ctx_train);
  gguf_set_val_u32(ctx, "llama.embedding_length", spec.n_embd);
  gguf_set_val_u32(ctx, "llama.block_count", spec.n_layer);
  gguf_set_val_u32(ctx, "llama.feed_forward_length", spec.n_ff);
  gguf_set_val_u32(ctx, "llama.attention.head_count", spec.n_head);
  gguf_set_val_u32(ctx, "llama.attention.head_count_kv", spec.n_head_kv);
  gguf_set_val_u32(ctx, "llama.rope.dimension_count", spec.head_dim());
  gguf_set_val_f32(ctx, "llama.rope.freq_base", spec.rope_freq_base);
  gguf_set_val_f32(ctx, "llama.attention.layer_norm_rms_epsilon", spec.rms_norm_eps);
}

void SetTokenizer(gguf_context* ctx, const Vocab& vocab) {
  gguf_set_val_str(ctx, "tokenizer.ggml.model", "llama");
  std::vector<const char*> texts;
  texts.reserve(vocab.tokens.size());
  for (const auto& t : vocab.tokens) texts.push_back(t.c_str());
  gguf_set_arr_str(ctx, "tokenizer.ggml.tokens", texts.data(), texts.size());
  gguf_set_arr_data(ctx, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, vocab.scores.data(), vocab.scores.size());
  gguf_set_arr_data(ctx, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, vocab.types.data(), vocab.types.size());
  gguf_set_val_u32(ctx, "tokenizer.ggml.unknown_token_id", vocab.unk_id);
  gguf_set_val_u32(ctx, "tokenizer.ggml.bos_token_id", vocab.bos_id);
  gguf_set_val_u32(ctx, "tokenizer.ggml.eos_token_id", vocab.eos_id);
  // llama.cpp would find <|im_end|> by name too; saying so makes the end of turn explicit.
  gguf_set_val_u32(ctx, "tokenizer.ggml.eot_token_id", vocab.im_end_id);
  gguf_set_val_bool(ctx, "tokenizer.ggml.add_bos_token", true);
  gguf_set_val_bool(ctx, "tokenizer.ggml.add_eos_token", false);
  gguf_set_val_str(ctx, "tokenizer.chat_template", kChatMlTemplate);
}

ggml_type StorageType(const TensorInfo& t) {
  // Norms stay F32, as llama.cpp's converters write them; the quantizer keeps 1-D tensors.
  return t.kind == TensorInfo::Kind::kNorm ? GGML_TYPE_F32 : GGML_TYPE_F16;
}

// Streams tensor data after the metadata, padding each tensor to the offset gguf assigned.
class TensorDataWriter {
 public:
  TensorDataWriter(FILE* file, std::string path, uint64_t seed)
      : file_(file), path_(std::move(path)), seed_(seed), sampler_(kWeightStddev), chunk_(kChunkElements) {}

  Status Write(const TensorInfo& t, uint64_t stream, size_t offset) {
    if (Status s = PadTo(offset); !s.ok()) return s;
    if (t.kind == TensorInfo::Kind::kNorm) {
      const std::vector<float> ones(static_cast<size_t>(t.n_elements()), 1.0f);
      return Put(ones.data(), ones.size() * sizeof(float));
    }
    Xoshiro256 rng(seed_, stream);
    for (int64_t done = 0; done < t.n_elements();) {
      const size_t n = static_cast<size_t>(std::min<int64_t>(kChunkElements, t.n_elements() - done));
      sampler_.Fill(rng, std::span<ggml_fp16_t>(chunk_.data(), n));
      if (Status s = Put(chunk_.data(), n * sizeof(ggml_fp16_t)); !s.ok()) return s;
      done += static_cast<int64_t>(n);
    }
    return Status::Ok();
  }

  Status PadTo(size_t offset) {
    static const char kZeros[64] = {};
    while (written_ < offset) {
      const size_t n = std::min(sizeof(kZeros), offset - written_);
      if (Status s = Put(kZeros, n); !s.ok()) return s;
    }
    return Status::Ok();
  }

 private:
  Status Put(const void* data, size_t n) {
    if (std::fwrite(data, 1, n, file_) != n) {
      return Status::IoError("cannot write " + path_ + ": " + std::strerror(errno));
    }
    written_ += n;
    return Status::Ok();
  }

  FILE* file_;
  std::string path_;  // for error messages
  uint64_t seed_;
  NormalF16Sampler sampler_;
  size_t written_ = 0;  // bytes since the start of the data section
  std::vector<ggml_fp16_t> chunk_;
};

}  // namespace

Status WriteF16Model(const ModelSpec& spec, const Vocab& vocab, uint64_t seed, const std::string& path) {
  const std::vector<TensorInfo> layout = TensorLayout(spec);

  // gguf_add_tensor takes its shape from a ggml_tensor: a no_alloc context holds only headers.
  ggml_init_params params = {layout.size() * ggml_tensor_overhead(), nullptr, /*no_alloc=*/true};
  GgmlPtr tensors(ggml_init(params));
  GgufPtr gguf(gguf_init_empty());
  if (!tensors || !gguf) return Status::Internal("cannot allocate gguf/ggml contexts");

  SetHyperparameters(gguf.get(), spec);
  SetTokenizer(gguf.get(), vocab);
  for (const auto& t : layout) {
    // A norm's second dimension is 1, which gguf stores as a 1-D tensor.
    ggml_tensor* header = ggml_new_tensor_2d(tensors.get(), StorageType(t), t.cols, t.rows);
    ggml_set_name(header, t.name.c_str());
    gguf_add_tensor(gguf.get(), header);
  }

  FilePtr file(std::fopen(path.c_str(), "wb"));
  if (!file) return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  // The metadata ends padded to the alignment, so the data section starts right after it.
  if (!gguf_write_to_file_ptr(gguf.get(), file.get(), /*only_meta=*/true)) {
    return Status::IoError("cannot write the metadata of " + path);
  }
  TensorDataWriter data(file.get(), path, seed);
  for (size_t i = 0; i < layout.size(); ++i) {
    const auto offset = gguf_get_tensor_offset(gguf.get(), static_cast<int64_t>(i));
    if (Status s = data.Write(layout[i], i, offset); !s.ok()) return s;
  }
  // gguf pads after every tensor, the last one included.
  const auto last = static_cast<int64_t>(layout.size() - 1);
  const size_t end = gguf_get_tensor_offset(gguf.get(), last) + gguf_get_tensor_size(gguf.get(), last);
  if (Status s = data.PadTo(GGML_PAD(end, gguf_get_alignment(gguf.get()))); !s.ok()) return s;

  if (std::fclose(file.release()) != 0) {
    return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace llamanet::mkmodel
