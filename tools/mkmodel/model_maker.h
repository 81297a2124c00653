// Makes a model file end to end: preset -> vocabulary -> F16 GGUF -> (optionally) quantized
// GGUF, written atomically: the output path only ever holds a complete model.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "model_spec.h"

namespace llamanet::mkmodel {

struct MakeOptions {
  std::string output;                          // required: where the model goes
  std::string preset = std::string(kDefaultPreset);
  WeightType type = WeightType::kF16;
  uint64_t seed = 1;
};

struct MakeSummary {
  ModelSpec spec;
  WeightType type = WeightType::kF16;
  uint64_t params = 0;
  uint64_t file_bytes = 0;
};

// Writes the model. The F16 model is written to a temporary file beside `output`; for Q8_0
// and Q4_0 llama_model_quantize (llama.h) turns it into a second temporary file, and the first
// is removed. The finished file is flushed to disk and renamed onto `output`, so a crash never
// leaves a partial model there; temporary files are removed on every failure path.
// Quantization logs through llama.cpp's logger (llama_log_set) and uses all cores.
// Fails with InvalidArgument for an unknown preset or bad shapes, IoError for file failures,
// Internal if llama.cpp cannot quantize.
Result<MakeSummary> MakeModel(const MakeOptions& options);

}  // namespace llamanet::mkmodel
