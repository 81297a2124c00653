// Carries a request to a peer and its answer back, streams passed through chunk by chunk, with
// failover: a peer is tried only once its address is verified (peer_verifier.h), and one that
// has not begun its answer when it fails (no connection, a refusal, or frozen) is left for the
// next. The proxy commits to a peer's answer at its first body byte (or its end), so a peer
// that sends a stream's headers and then freezes is still failed over.
//
// No request waits on a hung peer: connecting has a short deadline, and whenever the peer has
// been silent for answer_grace (before its answer, or between chunks) its /health is probed on
// a fresh connection every probe_interval. A peer busy with a long prompt answers the probe and
// is waited for; a frozen one (its kernel still accepts connections) does not, and is marked
// down. While waiting, the proxy also watches its own client: once the client is gone the
// exchange with the peer is closed, so the peer stops generating too.
//
// Forwarded requests carry protocol::kForwardedHeader so that the peer serves them itself (one hop at
// most), never the client's Authorization header, and, in a private swarm, a credential
// derived from the swarm secret (forward_auth.h).
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <vector>

#include "swarm/forward_auth.h"
#include "protocol/node_record.h"
#include "swarm/peer_verifier.h"
#include "swarm/router.h"

namespace llamanet::swarm {

struct ProxyOptions {
  std::string self_node_id;
  std::chrono::milliseconds connect_timeout{1000};
  // Silence from the peer this long starts the liveness probes.
  std::chrono::milliseconds answer_grace{1500};
  std::chrono::milliseconds probe_timeout{1000};
  std::chrono::milliseconds probe_interval{1000};
  // How often a waiting request looks whether its client is still there.
  std::chrono::milliseconds client_poll{100};
  // The longest wait for any byte from a peer that keeps answering its probes.
  std::chrono::seconds read_timeout{300};
  size_t max_buffered_bytes = 1 << 20;  // per request; the peer waits while the client is behind
  size_t max_attempts = 4;              // peers tried per request, verification included
};

enum class ForwardResult {
  kAnswered,    // `res` carries a peer's answer
  kFailed,      // every peer tried failed before its answer began; `res` is untouched
  kClientGone,  // the client left while the proxy waited; nothing to answer
};

class Proxy {
 public:
  // `auth` signs forwarded requests in a private swarm; null without a swarm secret. The
  // router, verifier and auth must outlive the proxy.
  Proxy(ProxyOptions options, Router& router, PeerVerifier& verifier, const ForwardAuth* auth)
      : options_(std::move(options)), router_(router), verifier_(verifier), auth_(auth) {}

  // Tries `peers` in order (at most max_attempts of them).
  ForwardResult Forward(const httplib::Request& req, httplib::Response& res, const std::vector<protocol::NodeRecord>& peers);

 private:
  ProxyOptions options_;
  Router& router_;
  PeerVerifier& verifier_;
  const ForwardAuth* auth_;
};

// The Content-Type a forwarded answer may carry: JSON or an event stream; anything else a
// peer says becomes application/json.
std::string ForwardedContentType(const std::string& peer_content_type);

}  // namespace llamanet::swarm
