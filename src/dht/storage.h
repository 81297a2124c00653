// Storage: the records this node holds for others (PROTOCOL.md section 3, "One key, many
// publishers"). Each key holds a set of records, one per node_id, each expiring on its own at
// min(last_seen, time received) + ttl. Replacement rules for an existing node_id:
// - a record signed by one key is never replaced by an unsigned one, nor by one signed with
//   another key;
// - an older last_seen is a replay and is refused; the same record again is a no-op;
// - a tombstone (`withdrawn`) replaces the entry, is never returned, and blocks replays of the
//   live record until it expires.
// Every record, new or not, must also pass Validate(): under `node:<id>` only a record whose
// node_id is <id>; last_seen not expired and at most `max_future_skew_s` ahead of our clock (a
// record from the future would outlive its publisher and win every merge); signed records
// verify and, when their node_id has the derived form, are bound to their key
// (CheckIdentityBinding); with `require_signed` unsigned records are refused.
// Bounded by StorageLimits, in total and per source address (the IP a store came from), so
// one address cannot fill the store; Sweep() drops expired records. Live() never returns an
// expired record, swept or not.
//
// Times come from the Clock (wall seconds). Not synchronized: owned by the node's loop.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "dht/clock.h"
#include "dht/record.h"

namespace llamanet::dht {

struct StorageLimits {
  size_t max_keys = 4096;
  size_t max_records_per_key = 4096;
  size_t max_total_bytes = 32u << 20;  // sum of the records' JSON sizes
  size_t max_record_bytes = 4096;
  // Per source IP. A LlamaNet node publishes 3 records (node:<id>, model:<name>, all_nodes) of
  // about 450 bytes signed, so 256 records and 512 KiB hold ~85 nodes behind one address
  // (a NAT, or a local test swarm of 20 nodes on 127.0.0.1 with 4x to spare), while one
  // address alone can take at most 1/64 of max_total_bytes.
  size_t max_records_per_source = 256;
  size_t max_bytes_per_source = 512u << 10;
};

struct StorageOptions {
  StorageLimits limits;
  double ttl_s = 30;              // default: 3 heartbeats of 10 s
  double max_future_skew_s = 30;  // how far last_seen may lie ahead of our clock
  bool require_signed = false;    // refuse unsigned records
};

// True for keys whose find_value answer is one record object (`node:*`); the others answer an
// array of records.
bool IsSingleRecordKey(std::string_view key);
// For `node:<id>` keys: whether `record` may be stored under `key` (its node_id is <id>).
bool RecordMatchesKey(std::string_view key, const Record& record);

class Storage {
 public:
  Storage(StorageOptions options, const Clock& clock);

  // Whether `record` may be held under `key` at all (every rule above but the replacement
  // rules and the limits). Errors (InvalidArgument unless noted): "record too large"
  // (TooLarge), "record expired", "record from the future", "record node_id does not match the
  // key", "unsigned record refused: signatures required", "bad signature", "node_id is not
  // derived from the record's key". Lookups filter what other nodes answer with it.
  Status Validate(const std::string& key, const Record& record) const;

  // Stores `record` under `key` by the rules above, charged to `source` (the sender's IP; empty
  // for this node's own records, which have no quota). Errors: those of Validate, then
  // "signed record cannot be replaced by an unsigned one",
  // "signed record cannot be replaced by one signed with another key",
  // "replay: last_seen older than the stored record" (InvalidArgument), and
  // "too many keys", "key is full", "storage is full", "source is over its storage quota"
  // (all Unavailable).
  Status Put(const std::string& key, const Record& record, const std::string& source = "");

  // The live (not expired, not withdrawn) records of `key`: freshest first, then least
  // loaded, then by node_id; a stable order for paging with `offset`.
  std::vector<Record> Live(const std::string& key) const;

  // Drops expired records and empty keys; returns how many records went.
  size_t Sweep();

  std::vector<std::string> Keys() const;
  size_t key_count() const { return keys_.size(); }
  size_t record_count() const { return records_; }
  size_t bytes() const { return bytes_; }
  double ttl_s() const { return options_.ttl_s; }
  // What `source` holds here now: (records, bytes).
  std::pair<size_t, size_t> SourceUsage(const std::string& source) const;

 private:
  struct Entry {
    Record record;
    double expires_at = 0;  // wall seconds
    std::string source;     // who stored it ("" for this node)
  };
  using KeySet = std::unordered_map<std::string, Entry>;  // by node_id
  struct Usage {
    size_t records = 0;
    size_t bytes = 0;
  };

  // Validate without the signature check (the costly part), for Put's fast paths.
  Status CheckCheap(const std::string& key, const Record& record, double now) const;
  Status CheckReplacement(const Entry& old, const Record& record) const;
  Status CheckQuota(const std::string& source, const Entry* old, const Record& record) const;
  void Charge(const std::string& source, size_t bytes);
  void Refund(const Entry& entry);
  void Erase(KeySet& set, KeySet::iterator it);

  const StorageOptions options_;
  const Clock& clock_;
  std::unordered_map<std::string, KeySet> keys_;
  std::unordered_map<std::string, Usage> usage_;  // by source; "" (this node) is not charged
  size_t records_ = 0;
  size_t bytes_ = 0;
};

}  // namespace llamanet::dht
