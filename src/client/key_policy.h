// KeyPolicy: which nodes get the client's API key (ClientOptions::api_key). Anyone can publish a
// node record in a public swarm's DHT, so a key sent to every node found there would go to
// whoever asks for it. The key goes only to the nodes the user named (trusted_nodes, matched by
// HTTP address) and, in a private swarm (a swarm secret: every DHT datagram is authenticated),
// to every node found. Immutable after Make, so thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "llamanet/status.h"

namespace llamanet::client {

class KeyPolicy {
 public:
  KeyPolicy() = default;  // no key: nothing is sent

  // `trusted_nodes` are "host:port" HTTP addresses; a host name stands for itself and for the
  // addresses it resolves to now. InvalidArgument names an entry that is not host:port.
  static Result<KeyPolicy> Make(std::string api_key, const std::vector<std::string>& trusted_nodes,
                                bool private_swarm);

  // The key for the node at host:port; empty when there is no key or it is withheld there.
  const std::string& KeyFor(std::string_view host, int port) const;
  // There is a key and the node at host:port does not get it.
  bool Withholds(std::string_view host, int port) const { return !key_.empty() && KeyFor(host, port).empty(); }
  // `s`, the error for the node at host:port's answer `http_status`. A 401 from a node the key
  // was withheld from becomes kUnavailable (that node cannot serve this client, another may)
  // and says why and how to send the key there; any other `s` is returned unchanged.
  Status ExplainRefusal(std::string_view host, int port, int http_status, const Status& s) const;

 private:
  struct Address {
    std::string host;  // a canonical IP literal, or a lowercase host name
    int port = 0;
  };
  bool Trusted(std::string_view host, int port) const;

  std::string key_;
  std::vector<Address> trusted_;
  bool private_swarm_ = false;
};

}  // namespace llamanet::client
