#include "dht/swarm_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dht/hex.h"

namespace llamanet::dht {

std::string SwarmAuth::Mac(std::string_view message) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret_.data(), secret_.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, sizeof out,
                &len) == nullptr) {
    return std::string();  // OpenSSL failure: an empty MAC never verifies
  }
  return ToHex(std::string_view(reinterpret_cast<const char*>(out), len));
}

bool SwarmAuth::Verify(std::string_view message, std::string_view mac_hex) const {
  auto given = FromHex(mac_hex);
  auto expected = FromHex(Mac(message));
  if (!given || !expected || expected->empty() || given->size() != expected->size()) return false;
  return CRYPTO_memcmp(given->data(), expected->data(), given->size()) == 0;
}

}  // namespace llamanet::dht
