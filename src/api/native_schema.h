// The request body of POST /generate and /generate/stream (PROTOCOL.md section 2), parsed once
// into a typed generation request. No HTTP here.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "engine/generation.h"

namespace llamanet::api {

// `stop` entries at most, and bytes per entry.
inline constexpr size_t kMaxNativeStops = 16;
inline constexpr size_t kMaxNativeStopBytes = 256;

// {prompt (required), max_tokens, temperature, top_p, top_k, stop, repeat_penalty, seed}.
// Errors: kMalformed (not a JSON object, a missing prompt, a field of the wrong type) or
// kInvalidArgument (a value out of range), naming the field. max_tokens is at most `n_ctx`.
Result<engine::GenerationRequest> ParseGenerate(const std::string& body, int32_t n_ctx);

}  // namespace llamanet::api
