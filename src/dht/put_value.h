// PutValue: stores a record at the k nodes closest to sha1(key): a FindNode lookup, then a
// `store` to each node it found, in parallel. Reports on how many nodes stored the record
// (`already_stored` counts the local copy). Finish() (deadline, cancel, node stopping:
// lookup.h) reports what is stored so far and abandons the lookup or the stores in flight.
// Lifetime: std::make_shared, then Start(); pending callbacks (and the node's lookup registry)
// keep it alive. Single-threaded: runs on the node's loop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "dht/find_node.h"

namespace llamanet::dht {

class PutValue final : public Lookup, public std::enable_shared_from_this<PutValue> {
 public:
  // Result: the number of nodes holding the record (>= 1), or Unavailable when none does.
  using Done = std::function<void(Result<size_t> stored_on, const LookupStats& stats)>;
  // `target`: where the lookup heads, sha1(key) or a point of the key's region (spread.h).
  PutValue(TraversalHost& host, std::string key, NodeId target, Record record, size_t k, size_t alpha,
           size_t already_stored, Done done);

  void Start(const std::vector<ContactInfo>& seeds);
  // Stores at the `count` closest of the k the lookup finds (all k by default).
  void StoreAtMost(size_t count) { store_count_ = count; }
  // With StoreAtMost: the `count` drawn at random (from `seed`) among the closest found, not
  // the nearest, so that the stores of many publishers spread over all of them.
  void SpreadOver(uint64_t seed) { spread_seed_ = seed | 1; }
  // Stores at `closest` (found by an earlier lookup of the same key) without a lookup.
  void StartAt(const std::vector<ContactInfo>& closest);
  // Called with the closest nodes a lookup found, before storing there (for reuse by StartAt).
  void OnClosest(std::function<void(const std::vector<ContactInfo>&)> found) { on_closest_ = std::move(found); }
  // Lookup
  void Finish() override;
  bool finished() const override { return finished_; }

 private:
  void StoreAt(const std::vector<ContactInfo>& closest, const LookupStats& lookup);
  void StoreDone(bool stored, const std::string& error);
  void Report();

  TraversalHost& host_;
  const std::string key_;
  const NodeId target_;
  const Record record_;
  const size_t k_;
  size_t store_count_ = SIZE_MAX;
  uint64_t spread_seed_ = 0;  // 0: the nearest
  std::function<void(const std::vector<ContactInfo>&)> on_closest_;
  const size_t alpha_;
  Done done_;
  std::weak_ptr<FindNode> find_;  // while finding; it holds us, not the other way round
  size_t stored_;
  size_t pending_ = 0;
  std::vector<std::string> stores_;  // txids of the stores sent
  bool finished_ = false;
  std::string last_error_;
  LookupStats stats_;
};

}  // namespace llamanet::dht
