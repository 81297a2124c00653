// The native LlamaNet routes of PROTOCOL.md section 2, as the Python node answered them:
// POST /generate, POST /generate/stream, GET /status, /info, /health.
#pragma once

#include "http/http_server.h"
#include "api/api_context.h"

namespace llamanet::api {

void RegisterNativeApi(http::HttpServer& server, ApiContext& node);

}  // namespace llamanet::api
