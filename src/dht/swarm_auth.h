// SwarmAuth: HMAC-SHA256 of datagrams under a shared swarm secret (a private swarm). See
// wire_codec.h for where the MAC sits in a datagram. Immutable after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace llamanet::dht {

class SwarmAuth {
 public:
  // REQUIRES: !secret.empty().
  explicit SwarmAuth(std::string secret) : secret_(std::move(secret)) {}

  // HMAC-SHA256(secret, message) as 64 lower-case hex digits.
  std::string Mac(std::string_view message) const;
  // Constant-time check of `mac_hex` (either case) against Mac(message).
  bool Verify(std::string_view message, std::string_view mac_hex) const;

 private:
  std::string secret_;
};

}  // namespace llamanet::dht
