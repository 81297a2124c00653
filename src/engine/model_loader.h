// Loads a GGUF model with llama.cpp, showing progress: a bar on a terminal, a few plain lines
// otherwise (logs, containers). Also routes llama.cpp's own log lines to ours.
#pragma once

#include <string>

#include "core/status.h"
#include "engine/engine.h"
#include "engine/llama_handles.h"

namespace llamanet::engine {

struct ModelLoadOptions {
  std::string path;
  int32_t n_gpu_layers = 0;
  bool show_progress = true;
};

// Errors: kNotFound (no such file), kInvalidArgument (not a model llama.cpp can load).
Result<LlamaModelPtr> LoadModel(const ModelLoadOptions& options);

// What every engine on a loaded model reports about it: name (from `path`), description,
// sizes, trained context and vocabulary. The context and slot figures are the engine's own.
ModelInfo DescribeModel(const llama_model* model, const std::string& path);

// Installs once, process-wide: llama.cpp's logs go to our log (debug level unless an error),
// and ggml's backends are loaded when the build made them loadable modules.
void InitLlamaBackend();

}  // namespace llamanet::engine
