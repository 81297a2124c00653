// Identity binding: who may speak for a node_id. A signed record's identity is its Ed25519 key
// (dht/record_signing.h); an unsigned record (a Python node's) has none. The rules:
//  - a signed record whose node_id has the derived form (16 lowercase hex digits) must carry
//    the key it derives from, so no key can sign for another C++ node's id;
//  - a record for an id signed by key K is never replaced by one signed by another key or by an
//    unsigned one; unsigned records still work for ids no key has claimed;
//  - among one identity's records the newest last_seen wins, and a record older than one that
//    identity already showed is a replay;
//  - a record dated more than a small skew in the future is refused (it would win every
//    newest-wins comparison until then).
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "dht/record.h"

namespace llamanet::protocol {

// The id a node derives from its key: the first 16 hex digits of the public key (the ids C++
// nodes use unless --node-id names one).
std::string NodeIdFromPublicKey(std::string_view pubkey_hex);

// 16 lowercase hex digits: the derived form. Python nodes use this form too, unsigned.
bool HasDerivedIdForm(std::string_view node_id);

struct IdentityOptions {
  // Refuse unsigned records (the nodes' --require-signed): then every id is bound to a key.
  bool require_signed = false;
  // Records dated more than this many seconds after the reader's clock are refused.
  double max_future_skew_s = 30;
  // An id stays bound to the key that signed for it until this many seconds after that key's
  // newest record for it (after that the id is free, as it is in DHT storage once the record
  // expired there), so a key lost with its node's disk does not lock a custom id forever.
  double pin_s = 300;
  // Ids remembered at most. When the book is full (after forgetting expired ids) a new id is
  // not remembered, and only the rules within one merge protect it.
  size_t max_pins = 4096;
};

// Whether `record` may speak for its node_id on its own. InvalidArgument says why not:
// "unsigned record" (with require_signed), "last_seen in the future", "node_id not derived
// from pubkey" (a signed record with a derived-form id that is not its key's), "bad signature".
Status CheckIdentity(const dht::Record& record, double now_s, const IdentityOptions& options);

// Merges the records that one lookup got from many storing nodes into one per node_id, and
// remembers across merges which key owns each id. Thread-safe.
class IdentityBook {
 public:
  explicit IdentityBook(IdentityOptions options = {}) : options_(options) {}

  // One record per node_id out of `records`, freshest first (then by node_id). Per id:
  // records that fail CheckIdentity are dropped; the owner is the key the id is bound to from
  // earlier merges, else the one key that signed records for it here, else nobody (unsigned
  // records only); when two or more keys sign for an id nobody owns, none of them gets it (no
  // key may take a custom id by racing its owner). The owner's newest record is returned,
  // unless it is older than one the owner showed before (a replay): then the id is left out.
  // A signed result binds its id to its key.
  std::vector<dht::Record> Merge(const std::vector<dht::Record>& records, double now_s);

  // Ids bound to a key (expired bindings are forgotten at the next Merge).
  size_t pins() const;

 private:
  struct Pin {
    std::string pubkey;
    double last_seen = 0;  // the newest the key showed for the id
  };

  // REQUIRES: mu_ held.
  void ForgetExpired(double now_s);

  const IdentityOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Pin> pins_;  // by node_id; guarded by mu_
};

}  // namespace llamanet::protocol
