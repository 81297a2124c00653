#include "dht/address_token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>

#include "dht/swarm_auth.h"

namespace llamanet::dht {

AddressTokens::AddressTokens(int64_t rotation_ms, int64_t now_ms)
    : rotation_ms_(rotation_ms), rotated_ms_(now_ms), secret_(NewSecret()), previous_(NewSecret()) {}

std::string AddressTokens::NewSecret() {
  std::string secret(32, '\0');
  // The loop's std::mt19937_64 is not fit for secrets: its output shows in every txid.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(secret.size())) != 1) {
    std::abort();  // no randomness: tokens would be forgeable
  }
  return secret;
}

std::string AddressTokens::TokenFor(const std::string& secret, std::string_view ip) {
  return SwarmAuth(secret).Mac(ip).substr(0, kTokenHexDigits);
}

void AddressTokens::RotateIfDue(int64_t now_ms) {
  const int64_t periods = (now_ms - rotated_ms_) / rotation_ms_;
  if (periods <= 0) return;
  // A secret issues tokens for one period and accepts them for one more; after an idle gap of
  // two periods or more, both are stale.
  previous_ = periods == 1 ? std::move(secret_) : NewSecret();
  secret_ = NewSecret();
  rotated_ms_ += periods * rotation_ms_;
}

std::string AddressTokens::Issue(std::string_view ip, int64_t now_ms) {
  RotateIfDue(now_ms);
  return TokenFor(secret_, ip);
}

bool AddressTokens::Valid(std::string_view ip, std::string_view token, int64_t now_ms) {
  RotateIfDue(now_ms);
  if (token.size() != kTokenHexDigits) return false;
  for (const std::string* secret : {&secret_, &previous_}) {
    const std::string expected = TokenFor(*secret, ip);
    if (expected.size() == token.size() && CRYPTO_memcmp(expected.data(), token.data(), token.size()) == 0) return true;
  }
  return false;
}

void TokenCache::Put(const std::string& endpoint, std::string token) {
  auto it = tokens_.find(endpoint);
  if (it == tokens_.end() && tokens_.size() >= capacity_) {
    tokens_.erase(std::min_element(tokens_.begin(), tokens_.end(),
                                   [](const auto& a, const auto& b) { return a.second.stamp < b.second.stamp; }));
  }
  tokens_[endpoint] = Entry{std::move(token), next_stamp_++};
}

std::string TokenCache::Get(const std::string& endpoint) const {
  auto it = tokens_.find(endpoint);
  return it == tokens_.end() ? std::string() : it->second.token;
}

size_t TokenCache::size() const { return tokens_.size(); }

}  // namespace llamanet::dht
