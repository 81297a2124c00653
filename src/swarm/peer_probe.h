// Short GET requests to a peer under one deadline for the whole exchange (connect, request,
// status line, body): the identity and /info probes that verify an address, and the liveness
// probe that tells a frozen peer from a busy one. A frozen (SIGSTOPped) process still completes
// TCP handshakes in its kernel, so only an HTTP answer counts as a sign of life.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace llamanet::swarm {

struct ProbeAnswer {
  int status = 0;
  std::string body;
};

// GET `path` at the numeric address ip:port. kUnavailable when no complete answer came within
// `timeout` (or the connection failed), kTooLarge when the body is over `max_body_bytes`.
Result<ProbeAnswer> ProbeGet(const std::string& ip, int32_t port, const std::string& path,
                             std::chrono::milliseconds timeout, size_t max_body_bytes,
                             const httplib::Headers& headers = {});

// Whether ip:port answers GET /health with a status line, any status, within `timeout`.
bool AnswersHttp(const std::string& ip, int32_t port, std::chrono::milliseconds timeout);

}  // namespace llamanet::swarm
