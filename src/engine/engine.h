// The inference engine as the rest of LlamaNet sees it: submit a generation, get a stream
// of its text, read the engine's load. LlamaEngine (llama_engine.h) is the real one; tests
// of the layers above may use a fake. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "engine/generation.h"
#include "engine/generation_stream.h"

namespace llamanet::engine {

struct ModelInfo {
  std::string name;        // file base name without .gguf
  std::string path;
  std::string description; // llama.cpp's one-line description (arch, size, type)
  uint64_t n_params = 0;
  uint64_t size_bytes = 0;
  int32_t n_ctx = 0;       // context per request
  int32_t n_ctx_train = 0;
  int32_t n_vocab = 0;
  int32_t n_slots = 0;
  bool has_chat_template = false;
  double load_seconds = 0;
};

// A point-in-time view of the engine's load and throughput.
struct EngineMetrics {
  int32_t slots_total = 0;
  int32_t slots_busy = 0;
  int32_t queue_length = 0;        // admitted requests waiting for a slot
  int32_t queue_capacity = 0;
  double decode_tokens_per_second = 0;   // all sequences together, over the last seconds
  double request_tokens_per_second = 0;  // generation speed one request sees, recent average
  uint64_t prompt_tokens_total = 0;
  uint64_t completion_tokens_total = 0;
  uint64_t requests_total = 0;
  // Prefix cache: requests that reused cached tokens, requests that found none, tokens reused,
  // and the host store's use.
  uint64_t prefix_hits = 0;
  uint64_t prefix_misses = 0;
  uint64_t cached_tokens_total = 0;
  uint64_t cache_ram_bytes = 0;
  uint64_t cache_ram_capacity = 0;
  uint64_t cache_ram_entries = 0;
  int32_t cached_conversations = 0;  // distinct conversations held, in slots or the store
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Validates and queues a generation. Errors, returned at once: kInvalidArgument (bad
  // parameters, a prompt longer than the context), kUnavailable (the queue is full or the
  // engine is stopping). The stream then yields the text as it is made.
  virtual Result<std::shared_ptr<GenerationStream>> Submit(GenerationRequest request) = 0;

  virtual ModelInfo Model() const = 0;
  virtual EngineMetrics Metrics() const = 0;
  // The most prompt tokens this engine holds cached for a conversation (GenerationRequest::
  // conversation), 0 when none: what cache-aware routing asks a node.
  virtual int32_t CachedTokensFor(uint64_t conversation) const = 0;

  // Stops taking requests, cancels the ones in flight and waits for the scheduler to finish
  // them (each stream ends with kCancelled). Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace llamanet::engine
