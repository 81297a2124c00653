// The OpenAI-compatible routes of one node (PROTOCOL.md section 2): GET /v1/models,
// GET /v1/models/{id}, POST /v1/completions and POST /v1/chat/completions, with streaming as
// Server-Sent Events. Request bodies are parsed by openai_schema.h; this file submits the
// generations (one per choice, decoded together in the engine's slots) and renders the answers.
#pragma once

#include <string>

#include "engine/engine.h"
#include "http/http_server.h"
#include "api/api_context.h"

namespace llamanet::api {

void RegisterOpenAiApi(http::HttpServer& server, ApiContext& node);

// Whether this node serves a request's `model`: absent (""), "llamanet" (any model), or the
// name of the model it loaded. Any other name is answered 404 model_not_found. The one place
// that decides, so that the swarm router can take the decision over.
bool ServesModel(const engine::ModelInfo& model, const std::string& requested);

}  // namespace llamanet::api
