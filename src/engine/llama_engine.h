// The real Engine: one llama.cpp model and context in this process, driven by a Scheduler.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"
#include "engine/engine.h"
#include "llama.h"

namespace llamanet::engine {

struct LlamaEngineOptions {
  std::string model_path;
  int32_t n_ctx = 2048;       // context per request (each slot gets this many positions)
  int32_t n_slots = 4;        // requests decoded together (--parallel)
  int32_t n_batch = 512;      // tokens per decode step; prompts are fed in chunks of this
  int32_t n_threads = 0;      // 0: one per CPU core
  int32_t n_gpu_layers = 0;
  int32_t max_queue = 64;     // requests that may wait for a slot; beyond that, kUnavailable
  int32_t max_prompt_bytes = 1 << 20;
  bool prefix_cache = true;   // reuse the longest cached prefix of each prompt
  size_t cache_ram_bytes = size_t{2048} << 20;  // host memory for prefixes beyond the slots'
  bool show_progress = true;  // a progress bar while the model loads
  std::chrono::milliseconds max_grammar_step{250};  // see SchedulerOptions
};

// Loads the model and starts the scheduler. Errors: kNotFound (no model file),
// kInvalidArgument (bad options or a file llama.cpp cannot load), kInternal.
Result<std::unique_ptr<Engine>> OpenLlamaEngine(const LlamaEngineOptions& options);
// The same on a model loaded already (model_loader.h), so that an Embedder can share it;
// `load_seconds` is how long loading it took (ModelInfo::load_seconds).
Result<std::unique_ptr<Engine>> OpenLlamaEngine(const LlamaEngineOptions& options, std::shared_ptr<llama_model> model,
                                                double load_seconds);

// "tinyllama-1.1b.Q4_K_M" for ".../tinyllama-1.1b.Q4_K_M.gguf": only the extension goes.
std::string ModelNameFromPath(const std::string& path);

}  // namespace llamanet::engine
