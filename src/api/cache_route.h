// GET /cache?conversation=<16 hex digits>: how much of a conversation this node holds in its
// prefix cache and how free it is, what a peer or client asks before it sends the next turn
// (cache-aware routing, protocol/affinity.h). Needs the API key when the node has one (a swarm
// peer's credential counts): whether a node served a conversation is the operator's business.
#pragma once

#include "api/api_context.h"
#include "http/http_server.h"

namespace llamanet::api {

void RegisterCacheApi(http::HttpServer& server, ApiContext& node);

}  // namespace llamanet::api
