// GetValue: the iterative find_value lookup for one key. Unlike plain Kademlia it does not stop
// at the first value: a key published by many nodes is spread over the k closest nodes, each
// holding its own subset, so the lookup merges the record sets of every node it reaches (one
// entry per identity, i.e. per node_id and signing key, newest last_seen wins), pages through
// truncated replies with `offset`, and ends by the k-closest rule (traversal.h). Records of one
// node_id signed by different keys, or signed and unsigned, are all kept: which of them speaks
// for the id is the reader's rule (protocol/identity.h), and a newer forgery must not hide the
// owner's record from it. A `node:*` key holds one record per storing node, so that lookup
// stops early once `alpha` nodes returned it.
// See traversal.h for lifetime and threading.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "dht/traversal.h"

namespace llamanet::dht {

struct GetResult {
  std::vector<Record> records;  // live records, freshest first
  LookupStats stats;
};

class GetValue final : public Traversal {
 public:
  using Accept = std::function<bool(const Record&)>;  // filters records (signature, age)
  using Done = std::function<void(GetResult result)>;
  // `local`: what this node itself stores under the key.
  GetValue(TraversalHost& host, std::string key, size_t k, size_t alpha, std::vector<Record> local, Accept accept,
           Done done);

 private:
  static constexpr uint32_t kMaxRecordsPaged = 100'000;

  Request MakeQuery() const override;
  void OnReply(const Candidate& from, const Response& response) override;
  void OnFinish() override;
  bool Satisfied() const override;
  bool HasExtraWork() const override { return pages_in_flight_ > 0; }

  void Merge(const std::vector<Record>& records);
  // Asks `from` for the records after `offset` when its reply said there are more.
  void MaybeFetchPage(const ContactInfo& from, const Response& response);

  const std::string key_;
  const bool single_record_;
  Accept accept_;
  Done done_callback_;
  std::unordered_map<std::string, Record> merged_;  // by node_id + '\n' + pubkey
  size_t value_replies_ = 0;
  size_t pages_in_flight_ = 0;
};

}  // namespace llamanet::dht
