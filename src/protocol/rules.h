// The small rules node and client must agree on: which model name means "any model", the HTTP
// headers nodes and clients mark requests and answers with, and which failures mean "try
// another node".
#pragma once

#include <string_view>

#include "core/status.h"

namespace llamanet::protocol {

// A request for `model` empty or "llamanet" may go to any node, whatever model it serves.
bool IsAnyModel(std::string_view model);

// On a request: who sent it on. A node serves a request that carries it itself, so a request
// is forwarded at most once. Nodes put their node_id in it, clients "client".
inline constexpr const char* kForwardedHeader = "X-LlamaNet-Forwarded";
// On an answer: the node_id of the node that served it.
inline constexpr const char* kServedByHeader = "X-LlamaNet-Node";

// The Status code an HTTP answer's status stands for: 2xx and 3xx kOk; 404 kNotFound; 413
// kTooLarge; 429 and 5xx kUnavailable; other 4xx kInvalidArgument; anything else (not an HTTP
// status) kMalformed.
Status::Code CodeOfHttpStatus(int http_status);

// The retry rule: a request that failed on one node before any of its answer reached the caller
// is tried on another node when the failure was that node's, not the request's: no connection
// or a broken one (kIoError), a timeout (kDeadlineExceeded), a busy or failing node (kUnavailable:
// HTTP 429 and 5xx), an answer that is not the protocol (kMalformed). Errors of the request
// itself (kInvalidArgument, kNotFound, kTooLarge, ...) would fail on every node.
bool TryAnotherNode(Status::Code failure);

// TryAnotherNode for an HTTP answer: 429 and 5xx.
inline bool RetryableHttpStatus(int http_status) { return TryAnotherNode(CodeOfHttpStatus(http_status)); }

}  // namespace llamanet::protocol
