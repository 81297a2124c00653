#include "dht/node_id.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "dht/hex.h"

namespace llamanet::dht {

std::optional<NodeId> NodeId::FromHex(std::string_view hex) {
  if (hex.size() < static_cast<size_t>(kMinHexDigits) || hex.size() > static_cast<size_t>(kMaxHexDigits)) {
    return std::nullopt;
  }
  NodeId id;
  id.digits_ = static_cast<uint8_t>(hex.size());
  // Fill nibbles from the least significant end.
  size_t nibble = 0;
  for (size_t i = hex.size(); i-- > 0; ++nibble) {
    int v = HexDigitValue(hex[i]);
    if (v < 0) return std::nullopt;
    uint8_t& byte = id.value_[id.value_.size() - 1 - nibble / 2];
    byte = static_cast<uint8_t>(byte | (nibble % 2 == 0 ? v : v << 4));
  }
  return id;
}

NodeId NodeId::Sha1(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha1(), nullptr);
  NodeId id;
  id.digits_ = static_cast<uint8_t>(len * 2);
  std::memcpy(id.value_.data() + id.value_.size() - len, digest, len);
  return id;
}

NodeId NodeId::Random(std::mt19937_64& rng, int hex_digits) {
  NodeId id;
  id.digits_ = static_cast<uint8_t>(hex_digits);
  for (int nibble = 0; nibble < hex_digits; ++nibble) {
    auto v = static_cast<uint8_t>(rng() & 15);
    uint8_t& byte = id.value_[id.value_.size() - 1 - nibble / 2];
    byte = static_cast<uint8_t>(byte | (nibble % 2 == 0 ? v : v << 4));
  }
  return id;
}

std::string NodeId::ToHex() const {
  std::string full = dht::ToHex(std::string_view(reinterpret_cast<const char*>(value_.data()), value_.size()));
  return full.substr(full.size() - digits_);
}

int NodeId::DistanceBit(const NodeId& other) const {
  for (size_t i = 0; i < value_.size(); ++i) {
    uint8_t x = value_[i] ^ other.value_[i];
    if (x != 0) {
      int top = 7;
      while (!(x & (1u << top))) --top;
      return static_cast<int>((value_.size() - 1 - i) * 8) + top;
    }
  }
  return -1;
}

bool NodeId::Closer(const NodeId& target, const NodeId& a, const NodeId& b) {
  for (size_t i = 0; i < target.value_.size(); ++i) {
    uint8_t da = a.value_[i] ^ target.value_[i];
    uint8_t db = b.value_[i] ^ target.value_[i];
    if (da != db) return da < db;
  }
  return false;
}

NodeId NodeId::RandomAtDistanceBit(int bit, std::mt19937_64& rng) const {
  NodeId id = *this;
  id.digits_ = static_cast<uint8_t>(std::max<int>(digits_, bit / 4 + 1));
  const size_t n = value_.size();
  // Flip `bit`, randomize every bit below it.
  for (int b = 0; b <= bit; ++b) {
    uint8_t& byte = id.value_[n - 1 - b / 8];
    const uint8_t mask = static_cast<uint8_t>(1u << (b % 8));
    const bool original = (value_[n - 1 - b / 8] & mask) != 0;
    const bool set = b == bit ? !original : (rng() & 1) != 0;
    byte = static_cast<uint8_t>(set ? (byte | mask) : (byte & ~mask));
  }
  return id;
}

NodeId NodeId::RandomSharingPrefix(int prefix_bits, std::mt19937_64& rng) const {
  const int width = digits_ * 4;
  if (prefix_bits >= width) return *this;
  NodeId id = *this;
  const size_t n = value_.size();
  for (int b = 0; b < width - prefix_bits; ++b) {
    uint8_t& byte = id.value_[n - 1 - b / 8];
    const uint8_t mask = static_cast<uint8_t>(1u << (b % 8));
    byte = static_cast<uint8_t>((rng() & 1) != 0 ? (byte | mask) : (byte & ~mask));
  }
  return id;
}

size_t NodeId::Hash() const {
  // The low 8 bytes are as random as any (ids are hashes or random numbers).
  uint64_t h = 0;
  for (size_t i = value_.size() - 8; i < value_.size(); ++i) h = (h << 8) | value_[i];
  return static_cast<size_t>(h ^ (h >> 29));
}

std::string NodeIdFromName(std::string_view name) {
  if (name.size() >= static_cast<size_t>(NodeId::kMinHexDigits) && name.size() <= 40 && IsHex(name)) {
    return NodeId::FromHex(name)->ToHex();
  }
  return NodeId::Sha1(name).ToHex();
}

}  // namespace llamanet::dht
