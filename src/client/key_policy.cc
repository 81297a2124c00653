#include "client/key_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "client/status_util.h"
#include "dht/endpoint.h"

namespace llamanet::client {
namespace {

// One spelling per address, so that "::1" and "0:0::1", or "Node.lan" and "node.lan", match.
std::string Canonical(std::string_view host) {
  std::string text(host);
  unsigned char buf[sizeof(in6_addr)];
  char out[INET6_ADDRSTRLEN] = {};
  for (int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, text.c_str(), buf) == 1 && inet_ntop(family, buf, out, sizeof out)) return out;
  }
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

Result<KeyPolicy> KeyPolicy::Make(std::string api_key, const std::vector<std::string>& trusted_nodes,
                                  bool private_swarm) {
  KeyPolicy p;
  p.key_ = std::move(api_key);
  p.private_swarm_ = private_swarm;
  for (const std::string& entry : trusted_nodes) {
    auto split = dht::SplitHostPort(entry);
    if (!split.ok()) return Prefixed("trusted_nodes", split.status());
    p.trusted_.push_back(Address{Canonical(split->first), split->second});
    // A name that does not resolve now still matches records that carry the name itself.
    if (auto resolved = dht::ResolveHostPort(entry); resolved.ok()) {
      for (const dht::Endpoint& e : *resolved) p.trusted_.push_back(Address{Canonical(e.ip), e.port});
    }
  }
  return p;
}

bool KeyPolicy::Trusted(std::string_view host, int port) const {
  const std::string canonical = Canonical(host);
  return std::any_of(trusted_.begin(), trusted_.end(),
                     [&](const Address& a) { return a.port == port && a.host == canonical; });
}

const std::string& KeyPolicy::KeyFor(std::string_view host, int port) const {
  static const std::string kNone;
  return private_swarm_ || Trusted(host, port) ? key_ : kNone;
}

Status KeyPolicy::ExplainRefusal(std::string_view host, int port, int http_status, const Status& s) const {
  if (http_status != 401 || !Withholds(host, port)) return s;
  return Status::Unavailable(s.message() +
                             " (the API key is withheld from nodes found through a public swarm's DHT: name this "
                             "node in trusted_nodes, llamanet --trusted-nodes HOST:PORT, or join the private "
                             "swarm with its secret, swarm_secret or --swarm-secret)");
}

}  // namespace llamanet::client
