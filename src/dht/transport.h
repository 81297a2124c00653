// Transport: how a DHT node sends datagrams. Received datagrams reach the node through
// whoever drives it: the UDP event loop (udp_transport.h, dht_node.h) or the in-memory network
// (memory_network.h). The same node code runs on both.
#pragma once

#include <functional>
#include <string_view>

#include "dht/endpoint.h"

namespace llamanet::dht {

using DatagramHandler = std::function<void(const Endpoint& from, std::string_view datagram)>;

// Thread safety: Send is called from the owning node's loop thread only.
class Transport {
 public:
  virtual ~Transport() = default;
  // The address other nodes reach this transport at.
  virtual Endpoint local_endpoint() const = 0;
  // Best effort, like UDP: false when the datagram could not be handed to the network.
  virtual bool Send(const Endpoint& to, std::string_view datagram) = 0;
};

}  // namespace llamanet::dht
