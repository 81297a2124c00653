// The real Embedder: its own llama.cpp context (embeddings on, pooled per sequence) on a model
// the generation engine may share, and one thread that packs queued inputs, from any number of
// requests, into each llama_decode as separate sequences.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/status.h"
#include "engine/embedder.h"
#include "llama.h"

namespace llamanet::engine {

struct LlamaEmbedderOptions {
  int32_t n_ctx = 512;         // tokens one input may have, and tokens per decode
  int32_t n_seq_max = 16;      // inputs decoded together at most
  int32_t n_threads = 0;       // 0: one per CPU core
  int32_t max_inputs = 2048;   // per request (OpenAI's limit)
  size_t max_input_bytes = size_t{1} << 20;
  int32_t max_queue = 8192;    // inputs waiting at most; beyond that, kUnavailable
};

// The pooling the embedder uses: the model's own (GGUF `<arch>.pooling_type`) when it is mean,
// CLS or last token; mean when the model names none (decoder models).
enum llama_pooling_type EmbeddingPooling(const llama_model* model);

// Creates the context and starts the thread. `model` is shared with whoever else uses it.
// Errors: kInvalidArgument (bad options), kInternal (llama.cpp made no context).
Result<std::unique_ptr<Embedder>> OpenLlamaEmbedder(std::shared_ptr<llama_model> model,
                                                    const LlamaEmbedderOptions& options);

}  // namespace llamanet::engine
