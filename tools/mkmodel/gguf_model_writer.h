// Writes a llama-architecture GGUF with F16 weights through ggml's gguf API: the metadata
// llama.cpp's loader reads (hyperparameters, tokenizer, chat template), then the tensors,
// generated and written one chunk at a time so memory stays small for any model size.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "model_spec.h"
#include "vocab_builder.h"

namespace llamanet::mkmodel {

// The standard deviation of every random matrix: small enough that activations stay in a
// sane range through all layers (norm weights are 1), as at the start of training.
inline constexpr float kWeightStddev = 0.02f;

// Writes the model to `path`, replacing any file there. Matrices are F16 with values drawn
// from `seed` (tensor i uses stream i, so each tensor depends only on the seed and its
// position); norms are F32 ones. The same arguments always give the same bytes.
// Not atomic: the caller writes to a temporary path and renames (model_maker.h).
// Fails with IoError if the file cannot be created or written.
Status WriteF16Model(const ModelSpec& spec, const Vocab& vocab, uint64_t seed, const std::string& path);

}  // namespace llamanet::mkmodel
