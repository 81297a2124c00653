// AddressTokens: proof that a requester receives datagrams at the address it sends from, as
// BEP 5's tokens are. A reply to a requester that asks for one carries a token bound to the
// requester's IP by a secret that rotates every `rotation_ms`; a later request that echoes a
// valid token (of this secret or the previous one, so a token lives one to two rotations)
// proves its source. Only the host at that IP ever sees the token, so a request with a spoofed
// source cannot carry one: NodeCore caps replies to unproven sources (no reflection attack).
//
// Tokens are the first 16 bytes of HMAC-SHA256(secret, ip), as 32 hex digits; the secrets are
// 32 random bytes from OpenSSL. Times are monotonic milliseconds passed in. Not synchronized:
// owned by the node's loop.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace llamanet::dht {

class AddressTokens {
 public:
  static constexpr size_t kTokenHexDigits = 32;

  AddressTokens(int64_t rotation_ms, int64_t now_ms);

  std::string Issue(std::string_view ip, int64_t now_ms);
  bool Valid(std::string_view ip, std::string_view token, int64_t now_ms);

 private:
  void RotateIfDue(int64_t now_ms);
  static std::string NewSecret();
  static std::string TokenFor(const std::string& secret, std::string_view ip);

  const int64_t rotation_ms_;
  int64_t rotated_ms_;
  std::string secret_;
  std::string previous_;
};

// What a requester remembers of the tokens it got: the latest token per responder endpoint
// ("ip:port"), at most `capacity` of them (the oldest go first). Not synchronized.
class TokenCache {
 public:
  explicit TokenCache(size_t capacity) : capacity_(capacity) {}
  void Put(const std::string& endpoint, std::string token);
  // Empty when none is known.
  std::string Get(const std::string& endpoint) const;
  size_t size() const;

 private:
  struct Entry {
    std::string token;
    uint64_t stamp = 0;
  };
  size_t capacity_;
  uint64_t next_stamp_ = 0;
  std::unordered_map<std::string, Entry> tokens_;
};

}  // namespace llamanet::dht
