// Owning handles for llama.cpp objects, so that every early return frees what it made.
#pragma once

#include <memory>

#include "llama.h"

namespace llamanet::engine {

struct LlamaModelDeleter {
  void operator()(llama_model* m) const { llama_model_free(m); }
};
struct LlamaContextDeleter {
  void operator()(llama_context* c) const { llama_free(c); }
};
struct LlamaSamplerDeleter {
  void operator()(llama_sampler* s) const { llama_sampler_free(s); }
};

using LlamaModelPtr = std::unique_ptr<llama_model, LlamaModelDeleter>;
using LlamaContextPtr = std::unique_ptr<llama_context, LlamaContextDeleter>;
using LlamaSamplerPtr = std::unique_ptr<llama_sampler, LlamaSamplerDeleter>;

// A llama_batch that frees itself.
class LlamaBatch {
 public:
  LlamaBatch(int32_t capacity, int32_t n_seq_max)
      : batch_(llama_batch_init(capacity, 0, n_seq_max)), capacity_(capacity) {}
  ~LlamaBatch() { llama_batch_free(batch_); }
  LlamaBatch(const LlamaBatch&) = delete;
  LlamaBatch& operator=(const LlamaBatch&) = delete;

  void Clear() { batch_.n_tokens = 0; }
  // Appends one token of one sequence; returns its index in the batch.
  int32_t Add(llama_token token, llama_pos pos, llama_seq_id seq, bool logits) {
    int32_t i = batch_.n_tokens++;
    batch_.token[i] = token;
    batch_.pos[i] = pos;
    batch_.n_seq_id[i] = 1;
    batch_.seq_id[i][0] = seq;
    batch_.logits[i] = logits;
    return i;
  }
  int32_t size() const { return batch_.n_tokens; }
  int32_t capacity() const { return capacity_; }
  const llama_batch& get() const { return batch_; }

 private:
  llama_batch batch_;
  int32_t capacity_;
};

}  // namespace llamanet::engine
