// How the nodes of a private swarm vouch for the requests they forward to each other. The
// proxy never passes on the client's Authorization header (a client's key stays with the node
// it chose), so a peer with --api-key would refuse a forwarded request; with a swarm secret the
// forwarding node adds instead
//   X-LlamaNet-Auth: <unix seconds>.<nonce: 32 hex digits>.<HMAC-SHA256: 64 hex digits>
// keyed by HMAC-SHA256(secret, "llamanet-forward-v1") over
//   "<method>\n<path>\n<unix seconds>\n<nonce>\n<SHA-256 of the body, hex>\n<peer's node_id>".
// The receiving node takes it in place of its API key when it is the peer named, the time is
// within max_skew of its own clock and the nonce was not seen before; nonces are remembered for
// the whole window, so a captured credential cannot be replayed, there or at another node.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "dht/swarm_auth.h"

namespace llamanet::swarm {

inline constexpr const char* kForwardAuthHeader = "X-LlamaNet-Auth";

struct ForwardAuthOptions {
  std::chrono::seconds max_skew{60};     // accepted clock difference, either way
  size_t max_remembered_nonces = 65536;  // within the window; beyond, credentials are refused
};

class ForwardAuth {
 public:
  // `now` gives unix seconds (a test clock may replace it). REQUIRES: !swarm_secret.empty().
  explicit ForwardAuth(const std::string& swarm_secret, ForwardAuthOptions options = {},
                       std::function<int64_t()> now = UnixNow);

  // The header value for a request to forward to the node `to`.
  std::string Credential(const std::string& method, const std::string& path, const std::string& body,
                         const std::string& to) const;
  // Whether `header` vouches for this request to the node `self`; a credential is accepted once.
  bool Accept(const std::string& method, const std::string& path, const std::string& body, const std::string& self,
              const std::string& header);

  static int64_t UnixNow();

 private:
  static std::string Message(const std::string& method, const std::string& path, const std::string& time,
                             const std::string& nonce, const std::string& body, const std::string& to);

  const dht::SwarmAuth mac_;  // keyed by the derived key, not the secret itself
  const ForwardAuthOptions options_;
  const std::function<int64_t()> now_;

  std::mutex mu_;
  std::unordered_map<std::string, int64_t> seen_;  // nonce -> its time; guarded by mu_
  std::multimap<int64_t, std::string> by_time_;    // the same, oldest first; guarded by mu_
};

}  // namespace llamanet::swarm
