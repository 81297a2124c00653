// Text embeddings as the rest of LlamaNet sees them: a list of texts in, one unit-length
// vector per text out. LlamaEmbedder (llama_embedder.h) is the real one, beside the generation
// Engine on the same loaded model. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace llamanet::engine {

struct Embeddings {
  std::vector<std::vector<float>> vectors;  // one per input, in order, L2-normalized
  int32_t prompt_tokens = 0;                // all inputs together
};

struct EmbedderMetrics {
  uint64_t requests_total = 0;
  uint64_t inputs_total = 0;
  uint64_t tokens_total = 0;
  uint64_t decodes_total = 0;  // llama_decode calls: fewer than inputs when inputs shared one
  int32_t queue_length = 0;    // inputs waiting to be decoded
};

class Embedder {
 public:
  virtual ~Embedder() = default;

  // Embeds the texts, blocking until done. Errors: kInvalidArgument naming the input by its
  // index ("input[3] is ..."): empty, more bytes or tokens than the limits, or no texts or
  // too many; kUnavailable (the queue is full); kCancelled (shutting down).
  virtual Result<Embeddings> Embed(const std::vector<std::string>& texts) = 0;

  virtual int32_t Dimensions() const = 0;
  // The most tokens one input may have.
  virtual int32_t InputTokens() const = 0;
  virtual EmbedderMetrics Metrics() const = 0;

  // Refuses new work and fails what is queued with kCancelled. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace llamanet::engine
