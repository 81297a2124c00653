// Carries a request to a peer and its answer back, streams passed through chunk by chunk.
// A peer that fails before its first byte (no connection, a timeout, 5xx or 429) is skipped
// for the next one and reported to the router, which avoids it for a while. Forwarded
// requests carry kForwardedHeader so that the peer serves them itself (one hop at most).
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <vector>

#include "swarm/peer_record.h"
#include "swarm/router.h"

namespace llamanet::swarm {

inline constexpr const char* kForwardedHeader = "X-LlamaNet-Forwarded";
inline constexpr const char* kServedByHeader = "X-LlamaNet-Node";

struct ProxyOptions {
  std::string self_node_id;
  std::chrono::milliseconds connect_timeout{1500};
  std::chrono::seconds read_timeout{300};  // a long generation may be silent this long at most
  size_t max_buffered_bytes = 1 << 20;     // per request; the peer waits while we are behind
};

class Proxy {
 public:
  Proxy(ProxyOptions options, Router& router) : options_(std::move(options)), router_(router) {}

  // Tries `peers` in order. True when one answered: `res` then carries its status, headers
  // and body (a stream stays a stream). False when every peer failed before its first byte;
  // `res` is untouched.
  bool Forward(const httplib::Request& req, httplib::Response& res, const std::vector<PeerRecord>& peers);

 private:
  ProxyOptions options_;
  Router& router_;
};

}  // namespace llamanet::swarm
