#include "dht/storage.h"

#include <algorithm>

#include "dht/record_signing.h"

namespace llamanet::dht {

namespace {
constexpr std::string_view kNodePrefix = "node:";
}

bool IsSingleRecordKey(std::string_view key) { return key.substr(0, kNodePrefix.size()) == kNodePrefix; }

bool RecordMatchesKey(std::string_view key, const Record& record) {
  return !IsSingleRecordKey(key) || key.substr(kNodePrefix.size()) == record.node_id;
}

Storage::Storage(StorageOptions options, const Clock& clock) : options_(options), clock_(clock) {}

Status Storage::CheckReplacement(const Entry& old, const Record& record) const {
  if (old.record.is_signed() && !record.is_signed()) {
    return Status::InvalidArgument("signed record cannot be replaced by an unsigned one");
  }
  if (old.record.is_signed() && old.record.pubkey != record.pubkey) {
    return Status::InvalidArgument("signed record cannot be replaced by one signed with another key");
  }
  if (record.last_seen < old.record.last_seen) {
    return Status::InvalidArgument("replay: last_seen older than the stored record");
  }
  return Status::Ok();
}

Status Storage::CheckCheap(const std::string& key, const Record& record, double now) const {
  if (record.json.size() > options_.limits.max_record_bytes) return Status::TooLarge("record too large");
  if (std::min(record.last_seen, now) + options_.ttl_s <= now) return Status::InvalidArgument("record expired");
  if (record.last_seen > now + options_.max_future_skew_s) return Status::InvalidArgument("record from the future");
  if (!RecordMatchesKey(key, record)) return Status::InvalidArgument("record node_id does not match the key");
  if (!record.is_signed() && options_.require_signed) {
    return Status::InvalidArgument("unsigned record refused: signatures required");
  }
  return CheckIdentityBinding(record);
}

Status Storage::Validate(const std::string& key, const Record& record) const {
  if (Status s = CheckCheap(key, record, clock_.WallSeconds()); !s.ok()) return s;
  return record.is_signed() ? VerifyRecordSignature(record) : Status::Ok();
}

Status Storage::CheckQuota(const std::string& source, const Entry* old, const Record& record) const {
  if (source.empty()) return Status::Ok();
  Usage after;
  if (auto it = usage_.find(source); it != usage_.end()) after = it->second;
  if (old != nullptr && old->source == source) {
    after.records -= 1;
    after.bytes -= old->record.json.size();
  }
  after.records += 1;
  after.bytes += record.json.size();
  if (after.records > options_.limits.max_records_per_source || after.bytes > options_.limits.max_bytes_per_source) {
    return Status::Unavailable("source is over its storage quota");
  }
  return Status::Ok();
}

void Storage::Charge(const std::string& source, size_t bytes) {
  if (source.empty()) return;
  Usage& u = usage_[source];
  u.records += 1;
  u.bytes += bytes;
}

void Storage::Refund(const Entry& entry) {
  if (entry.source.empty()) return;
  auto it = usage_.find(entry.source);
  if (it == usage_.end()) return;
  it->second.records -= 1;
  it->second.bytes -= entry.record.json.size();
  if (it->second.records == 0) usage_.erase(it);
}

std::pair<size_t, size_t> Storage::SourceUsage(const std::string& source) const {
  auto it = usage_.find(source);
  return it == usage_.end() ? std::make_pair(size_t{0}, size_t{0}) : std::make_pair(it->second.records, it->second.bytes);
}

Status Storage::Put(const std::string& key, const Record& record, const std::string& source) {
  const double now = clock_.WallSeconds();
  if (Status s = CheckCheap(key, record, now); !s.ok()) return s;
  const double expires_at = std::min(record.last_seen, now) + options_.ttl_s;

  auto key_it = keys_.find(key);
  KeySet* set = key_it == keys_.end() ? nullptr : &key_it->second;
  auto old = set ? set->find(record.node_id) : KeySet::iterator();
  const bool exists = set && old != set->end();
  const bool replacing = exists && old->second.expires_at > now;
  if (replacing && old->second.record.json == record.json) return Status::Ok();  // the same record again
  if (replacing) {
    if (Status s = CheckReplacement(old->second, record); !s.ok()) return s;
  }
  if (record.is_signed()) {
    if (Status s = VerifyRecordSignature(record); !s.ok()) return s;
  }

  const size_t old_bytes = exists ? old->second.record.json.size() : 0;
  if (bytes_ - old_bytes + record.json.size() > options_.limits.max_total_bytes) {
    return Status::Unavailable("storage is full");
  }
  if (Status s = CheckQuota(source, exists ? &old->second : nullptr, record); !s.ok()) return s;
  if (set == nullptr) {
    if (keys_.size() >= options_.limits.max_keys) return Status::Unavailable("too many keys");
    set = &keys_[key];
    old = set->end();
  }
  if (old == set->end() && set->size() >= options_.limits.max_records_per_key) {
    // Make room by dropping the stalest record, when the new one is fresher.
    auto stalest = std::min_element(set->begin(), set->end(), [](const auto& a, const auto& b) {
      return a.second.record.last_seen < b.second.record.last_seen;
    });
    if (stalest->second.record.last_seen >= record.last_seen) return Status::Unavailable("key is full");
    Erase(*set, stalest);
  }
  if (old != set->end()) {
    bytes_ -= old->second.record.json.size();
    Refund(old->second);
    old->second = Entry{record, expires_at, source};
  } else {
    set->emplace(record.node_id, Entry{record, expires_at, source});
    ++records_;
  }
  bytes_ += record.json.size();
  Charge(source, record.json.size());
  return Status::Ok();
}

void Storage::Erase(KeySet& set, KeySet::iterator it) {
  bytes_ -= it->second.record.json.size();
  --records_;
  Refund(it->second);
  set.erase(it);
}

std::vector<Record> Storage::Live(const std::string& key) const {
  std::vector<Record> out;
  auto key_it = keys_.find(key);
  if (key_it == keys_.end()) return out;
  const double now = clock_.WallSeconds();
  for (const auto& [node_id, entry] : key_it->second) {
    if (entry.expires_at > now && !entry.record.withdrawn) out.push_back(entry.record);
  }
  std::sort(out.begin(), out.end(), [](const Record& a, const Record& b) {
    if (a.last_seen != b.last_seen) return a.last_seen > b.last_seen;
    if (a.load != b.load) return a.load < b.load;
    return a.node_id < b.node_id;
  });
  return out;
}

size_t Storage::Sweep() {
  const double now = clock_.WallSeconds();
  size_t removed = 0;
  for (auto key_it = keys_.begin(); key_it != keys_.end();) {
    KeySet& set = key_it->second;
    for (auto it = set.begin(); it != set.end();) {
      if (it->second.expires_at <= now) {
        auto victim = it++;
        Erase(set, victim);
        ++removed;
      } else {
        ++it;
      }
    }
    key_it = set.empty() ? keys_.erase(key_it) : std::next(key_it);
  }
  return removed;
}

std::vector<std::string> Storage::Keys() const {
  std::vector<std::string> out;
  out.reserve(keys_.size());
  for (const auto& [key, set] : keys_) out.push_back(key);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace llamanet::dht
