// Endpoint: a UDP address as (numeric IP text, port). Value type.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace llamanet::dht {

struct Endpoint {
  std::string ip;  // numeric IPv4 ("1.2.3.4") or IPv6 ("::1") text
  uint16_t port = 0;

  // "1.2.3.4:8001", or "[::1]:8001" for IPv6.
  std::string ToString() const;
  bool operator==(const Endpoint& o) const { return port == o.port && ip == o.ip; }
  bool operator!=(const Endpoint& o) const { return !(*this == o); }
};

struct EndpointHash {
  size_t operator()(const Endpoint& e) const { return std::hash<std::string>()(e.ip) * 31 + e.port; }
};

// True when `ip` is numeric IPv4 or IPv6 text.
bool IsIpLiteral(std::string_view ip);

// The network `ip` belongs to for per-network limits: its /24 for IPv4 ("10.1.2.0/24"), its
// /64 for IPv6 (IPv4-mapped IPv6 counts as IPv4). Empty when `ip` is not numeric.
std::string SubnetOf(std::string_view ip);
// 127.0.0.0/8, ::1 and IPv4-mapped loopback.
bool IsLoopback(std::string_view ip);

// Splits "host:port" (or "[v6]:port"); InvalidArgument when the form or port (1..65535) is bad.
Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view host_port);

// Resolves "host:port" to endpoints: literal addresses directly, names through the system
// resolver (getaddrinfo, which may block). InvalidArgument on bad text, NotFound when the
// name does not resolve.
Result<std::vector<Endpoint>> ResolveHostPort(std::string_view host_port);

}  // namespace llamanet::dht
