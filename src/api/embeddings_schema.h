// The request body of POST /v1/embeddings (PROTOCOL.md section 2), parsed into a typed request.
// Strict: a field this node does not take is refused by name. No HTTP here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace llamanet::api {

// Inputs per request at most: OpenAI's limit.
inline constexpr size_t kMaxEmbeddingInputs = 2048;

enum class EncodingFormat { kFloat, kBase64 };

struct EmbeddingsRequest {
  std::string model;                // as the client named it; "" when absent
  std::vector<std::string> inputs;  // one vector each, in order
  EncodingFormat format = EncodingFormat::kFloat;
};

// Parse a body. `dimensions` is the model's own vector size: a `dimensions` field asking for
// any other is refused (vectors are not shortened). Errors: kMalformed (not JSON, a field of
// the wrong type or shape), kInvalidArgument (an empty or missing input, too many inputs, an
// unknown encoding, token-id input, an unknown field); `param` names the field at fault.
Result<EmbeddingsRequest> ParseEmbeddingsRequest(const std::string& body, int32_t dimensions, std::string* param);

}  // namespace llamanet::api
