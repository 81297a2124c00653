// POST /v1/embeddings (PROTOCOL.md section 2): the body parsed by embeddings_schema.h, the
// inputs embedded by the node's Embedder, the answer in OpenAI's shape (float lists or base64
// of little-endian float32). Routed through the swarm like generation: a request for a model
// this node does not embed goes to a peer that does.
#pragma once

#include <string>
#include <vector>

#include "api/api_context.h"
#include "http/http_server.h"

namespace llamanet::api {

void RegisterEmbeddingsApi(http::HttpServer& server, ApiContext& node);

// The vector as OpenAI's base64 encoding_format carries it: the float32 values in
// little-endian byte order, base64-encoded (standard alphabet, padded).
std::string EmbeddingBase64(const std::vector<float>& vector);

}  // namespace llamanet::api
