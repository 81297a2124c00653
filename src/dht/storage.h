// Storage: the records this node holds for others (PROTOCOL.md section 3, "One key, many
// publishers"). Each key holds a set of records, one per node_id, each expiring on its own at
// min(last_seen, time received) + ttl. Replacement rules for an existing node_id:
// - a record signed by one key is never replaced by an unsigned one, nor by one signed with
//   another key;
// - an older last_seen is a replay and is refused; the same record again is a no-op;
// - a tombstone (`withdrawn`) replaces the entry, is never returned, and blocks replays of the
//   live record until it expires.
// Under `node:<id>` only a record whose node_id is <id> is accepted. Signed records must verify;
// with `require_signed` unsigned records are refused. Bounded by StorageLimits; Sweep() drops
// expired records. Live() never returns an expired record, swept or not.
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
};

struct StorageOptions {
  StorageLimits limits;
  double ttl_s = 30;            // default: 3 heartbeats of 10 s
  bool require_signed = false;  // refuse unsigned records
};

// True for keys whose find_value answer is one record object (`node:*`); the others answer an
// array of records.
bool IsSingleRecordKey(std::string_view key);
// For `node:<id>` keys: whether `record` may be stored under `key` (its node_id is <id>).
bool RecordMatchesKey(std::string_view key, const Record& record);

class Storage {
 public:
  Storage(StorageOptions options, const Clock& clock);

  // Stores `record` under `key` by the rules above. Errors (all InvalidArgument unless noted):
  // "record too large" (TooLarge), "record expired", "record node_id does not match the key",
  // "unsigned record refused: signatures required", "bad signature",
  // "signed record cannot be replaced by an unsigned one",
  // "signed record cannot be replaced by one signed with another key",
  // "replay: last_seen older than the stored record",
  // "too many keys", "key is full", "storage is full" (all Unavailable).
  Status Put(const std::string& key, const Record& record);

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

 private:
  struct Entry {
    Record record;
    double expires_at = 0;  // wall seconds
  };
  using KeySet = std::unordered_map<std::string, Entry>;  // by node_id

  Status CheckReplacement(const Entry& old, const Record& record) const;
  void Erase(KeySet& set, KeySet::iterator it);

  const StorageOptions options_;
  const Clock& clock_;
  std::unordered_map<std::string, KeySet> keys_;
  size_t records_ = 0;
  size_t bytes_ = 0;
};

}  // namespace llamanet::dht
