// UdpTransport: a non-blocking UDP socket (IPv4, or IPv6 dual-stack when bound to an IPv6
// address). The node's event loop polls fd() and calls ReceiveReady. Errors: Bind returns
// IoError when the address is taken or invalid (no silent move to another port). Send and
// ReceiveReady are called from the loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "dht/transport.h"

namespace llamanet::dht {

class UdpTransport final : public Transport {
 public:
  // `host`: a numeric address or a name ("0.0.0.0", "127.0.0.1", "::"); port 0 picks a free one.
  static Result<std::unique_ptr<UdpTransport>> Bind(const std::string& host, uint16_t port);
  ~UdpTransport() override;

  Endpoint local_endpoint() const override { return local_; }
  bool Send(const Endpoint& to, std::string_view datagram) override;

  // Reads up to `max_datagrams` waiting datagrams and hands each to `handler`. Datagrams of up
  // to 64 KiB arrive whole, so the codec can count oversized ones.
  void ReceiveReady(const DatagramHandler& handler, int max_datagrams);
  int fd() const { return fd_; }

 private:
  UdpTransport(int fd, int family, Endpoint local) : fd_(fd), family_(family), local_(std::move(local)) {}
  int fd_;
  int family_;
  Endpoint local_;
};

}  // namespace llamanet::dht
