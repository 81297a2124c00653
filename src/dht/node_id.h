// NodeId: a Kademlia id written as hex text of any width from 16 to 64 digits (Python nodes
// use 16, clients and C++ nodes 40). Ids compare and XOR as unsigned integers: a shorter id is
// padded with zeros on the left, exactly as Python's int(x, 16) reads it. Value type; not
// synchronized (copy it between threads).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace llamanet::dht {

class NodeId {
 public:
  static constexpr int kMinHexDigits = 16;
  static constexpr int kMaxHexDigits = 64;
  static constexpr int kBits = kMaxHexDigits * 4;  // 256: the widest id's bit count
  static constexpr int kDefaultHexDigits = 40;     // SHA-1 width

  NodeId() = default;  // zero, 40 digits

  // nullopt unless `hex` is 16..64 hex digits (either case; the text form is lower case).
  static std::optional<NodeId> FromHex(std::string_view hex);
  // SHA-1 of `data` as a 40-digit id: the routing target of a key, and ids made from names.
  static NodeId Sha1(std::string_view data);
  // A uniformly random id of `hex_digits` digits (16..64).
  static NodeId Random(std::mt19937_64& rng, int hex_digits = kDefaultHexDigits);

  // The id's text, as many digits as it was created with (leading zeros kept).
  std::string ToHex() const;
  int hex_digits() const { return digits_; }

  // Index of the highest bit in which this id and `other` differ (0 = least significant),
  // i.e. bit_length(this XOR other) - 1; -1 when they are equal.
  int DistanceBit(const NodeId& other) const;
  // True when `a` is strictly closer to `target` than `b` (XOR distance).
  static bool Closer(const NodeId& target, const NodeId& a, const NodeId& b);
  // A random id whose DistanceBit to this id is `bit`, for bucket refresh; as wide as this id,
  // or wider when `bit` needs it. REQUIRES: 0 <= bit < kBits.
  NodeId RandomAtDistanceBit(int bit, std::mt19937_64& rng) const;
  // A random id as wide as this one whose first `prefix_bits` bits are this id's: a random
  // point of the region of about swarm / 2^prefix_bits nodes around it. REQUIRES: prefix_bits >= 0.
  NodeId RandomSharingPrefix(int prefix_bits, std::mt19937_64& rng) const;

  // Equality is of the integer value, whatever the width of the text.
  bool operator==(const NodeId& other) const { return value_ == other.value_; }
  bool operator!=(const NodeId& other) const { return !(*this == other); }
  size_t Hash() const;

 private:
  std::array<uint8_t, kMaxHexDigits / 2> value_{};  // big-endian, right-aligned
  uint8_t digits_ = kDefaultHexDigits;
};

struct NodeIdHash {
  size_t operator()(const NodeId& id) const { return id.Hash(); }
};

// The DHT id of a node given its printable --node-id: the name itself (lower-cased) when it is
// already 16..40 hex digits, otherwise sha1(name) as 40 hex digits.
std::string NodeIdFromName(std::string_view name);

// The routing target of a key: sha1(key).
inline NodeId KeyTarget(std::string_view key) { return NodeId::Sha1(key); }

}  // namespace llamanet::dht
