// The native LlamaNet routes of PROTOCOL.md section 2, as the Python node answered them:
// POST /generate, POST /generate/stream, GET /status, /info, /health.
#pragma once

#include "node/http_server.h"
#include "node/node_context.h"

namespace llamanet::node {

void RegisterNativeApi(HttpServer& server, NodeContext& node);

}  // namespace llamanet::node
