// WireCodec: JSON datagram <-> typed Message (PROTOCOL.md section 3), with every field checked.
// Decode never throws: a bad datagram yields a DropReason that the node counts.
//
// Wire decisions left open by PROTOCOL.md (documented here, the one place that reads them):
// - Swarm MAC: with a swarm secret, every datagram carries a top-level "mac": 64 lower-case hex
//   digits of HMAC-SHA256(secret, C), where C is the canonical JSON of the datagram without
//   "mac" (keys sorted, no whitespace: CanonicalJson in record_json.h). A datagram whose mac is
//   missing or wrong is dropped (kBadMac). Without a secret, "mac" is ignored.
// - Read-only clients put "ro": true in their requests (as BEP 43 does); such senders are never
//   added to a routing table, and a read-only node answers no queries.
// - find_value paging: a request may carry "offset": n (default 0). A reply holding the records
//   [n, n + m) of a set of N says "offset": n when n > 0, and "truncated": true, "total": N when
//   m < N. A client asks again with offset n + m until n + m == N. Value replies of C++ nodes
//   also carry "contacts" (the closest ones to the key) when offset is 0, so a lookup can go on
//   through nodes that hold the value; Python nodes ignore that field.
// - find_value "value_only": true (C++ extension; Python nodes ignore it): a value reply carries
//   no contacts. Sent by a node polling one peer for its own record (its current load).
// - find_value "known": "<digest>" (C++ extension, with value_only): the ContentDigest of the
//   record the asker holds. When the key's one record has that digest, the reply carries
//   "unchanged": true and no value (the record says the same; only its time moved on).
// - find_value "limit": n (C++ extension; Python nodes ignore it and send their first page): a
//   sample. A set of more than n records is answered with n of them drawn at random,
//   "truncated": true, "total": N, and no contacts (the sampler has what it asked for).
// - A refused store answers {"stored": false, "error": "<why>"}.
// - Address tokens (BEP 5 style, address_token.h): a C++ requester adds "token": "<token>"
//   (the one the responder gave it last, or "" when it has none) to every request. A reply to
//   such a request carries data "token" (32 hex digits) for the requester's IP. A request with
//   a valid token gets full-size replies; a reply to any other request (Python peers never
//   send a token) is cut to a small multiple of the request's size, and when it was cut, says
//   "unproven": true (only to requesters that sent "token") so that they ask again with the
//   token. Python peers see neither field.
//
// Thread safety: const methods, safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dht/message.h"
#include "dht/swarm_auth.h"

namespace llamanet::dht {

enum class DropReason : uint8_t {
  kOversized,     // longer than max_datagram_bytes
  kTooDeep,       // JSON nested deeper than max_depth
  kNotJson,       // not valid UTF-8 JSON
  kNotObject,     // JSON, but not an object
  kBadMac,        // swarm secret set and "mac" missing or wrong
  kUnknownType,   // "type" missing, not a string, or not one of the five
  kBadTxid,       // "id" not a string of 1..max_txid_bytes
  kBadSenderId,   // "sender_id" not 16..64 hex digits
  kBadFlag,       // "ro" present but not a bool
  kBadKey,        // "key" not a string of 1..max_key_bytes
  kBadTarget,     // "target_id" not 16..64 hex digits
  kBadOffset,     // "offset" not an integer in 0..2^31
  kBadToken,      // "token" not a string of 0..64 bytes
  kBadValue,      // a store value / find_value value that is not record(s)
  kBadData,       // reply "data" not an object, or a field of it of the wrong type
  kBadContacts,   // reply contacts not a list of {node_id, ip, port}
  kRateLimited,   // the source sent more than its rate (rate_limiter.h)
  kUnknownTxid,   // a reply whose id matches no request in flight
  kWrongSource,   // a reply from another address than the one asked
  kNotServing,    // a request to a read-only node
  kBadKnown,      // find_value "known" not a string of 1..64 hex digits
  kCount,
};
const char* DropReasonName(DropReason reason);  // "oversized", "bad_mac", ...

// Counts per drop reason. Not synchronized (owned by the node's loop).
struct DropCounters {
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> counts{};
  void Add(DropReason r) { ++counts[static_cast<size_t>(r)]; }
  uint64_t operator[](DropReason r) const { return counts[static_cast<size_t>(r)]; }
};

struct WireLimits {
  size_t max_datagram_bytes = 8192;  // PROTOCOL.md: 8 KiB
  int max_depth = 16;                // JSON nesting
  size_t max_txid_bytes = 64;
  size_t max_key_bytes = 512;
  size_t max_contacts = 64;          // per reply
  size_t max_records = 1024;         // per value
};

struct DecodeResult {
  std::optional<Message> message;  // set when the datagram is valid
  DropReason reason = DropReason::kCount;
  std::string detail;  // which field, for logs and tests
  // Known even when the datagram is rejected, once its type and id were read: so that a
  // garbage reply fails its request at once (RpcManager::OnBadReply).
  bool is_response = false;
  std::string txid;
};

class WireCodec {
 public:
  // `swarm_secret` empty: no MAC is added or required.
  explicit WireCodec(WireLimits limits = {}, std::string swarm_secret = "");

  DecodeResult Decode(std::string_view datagram) const;
  // The datagram for `message` (with its MAC when a secret is set). It may exceed the size cap;
  // callers that build large replies check the size (see NodeCore's value replies).
  std::string Encode(const Message& message) const;

  const WireLimits& limits() const { return limits_; }

 private:
  WireLimits limits_;
  std::optional<SwarmAuth> auth_;
};

// The bytes `contact` takes in an encoded `contacts` array, without its separator: lets a reply
// be cut to a size without encoding it again per contact.
size_t EncodedContactSize(const ContactInfo& contact);

// Depth of the deepest JSON nesting in `text` (strings skipped), stopping early past `cap`.
int JsonNestingDepth(std::string_view text, int cap);

}  // namespace llamanet::dht
