// Record: one node's entry under a DHT key. On the wire a record is a JSON object with at least
// `node_id` (string) and `last_seen` (epoch seconds), optionally `pubkey` + `sig` (Ed25519,
// see record_signing.h) and `withdrawn` (a tombstone, see MakeTombstone); every other field is
// opaque to the DHT and travels unchanged. Value type.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace llamanet::dht {

struct Record {
  // The fields below mirror `json`; build records with ParseRecord so they agree.
  std::string node_id;
  double last_seen = 0;    // epoch seconds
  double load = 0;         // the record's `load` when it is a number, else 0 (reply order only)
  bool withdrawn = false;  // `"withdrawn": true`: the node left; see MakeTombstone
  std::string pubkey;      // 64 hex digits when signed, else empty
  std::string json;        // the whole object as compact JSON with sorted keys

  bool is_signed() const { return !pubkey.empty(); }
  bool operator==(const Record& o) const { return json == o.json; }
};

inline constexpr size_t kMaxRecordNodeIdBytes = 128;

// Parses and checks a record object. InvalidArgument names the bad field:
// node_id (a string of 1..128 bytes), last_seen (a finite number >= 0), withdrawn (a bool),
// pubkey (64 hex digits) and sig (128 hex digits), present together or not at all.
Result<Record> ParseRecord(std::string_view json_text);

// The tombstone of `live` for a graceful stop: the same object with `"withdrawn": true`,
// `last_seen` = max(now_s, live.last_seen + 0.001) (so it replaces the live record everywhere)
// and no signature (sign it again with SignRecord when the live record was signed). Storing
// nodes keep a tombstone until it expires, never return it, and refuse the older live record
// (replay rule), so a withdrawn node disappears from every answer at once.
Record MakeTombstone(const Record& live, double now_s);

// What a record says, not when: 16 hex digits of SHA-256 over its JSON without the fields that
// change with the clock alone (last_seen, uptime) and the signature over them. A poller sends
// the digest of the copy it holds ("known"), and a node whose record still says the same
// answers "unchanged" instead of the record (PROTOCOL.md section 3).
std::string ContentDigest(const Record& record);

}  // namespace llamanet::dht
