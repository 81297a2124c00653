// GetValue: the iterative find_value lookup for one key. Unlike plain Kademlia it does not stop
// at the first value: a key published by many nodes is spread over the k closest nodes, each
// holding its own subset, so the lookup merges the record sets of every node it reaches (one
// entry per identity, i.e. per node_id and signing key, newest last_seen wins), pages through
// truncated replies with `offset`, and ends by the k-closest rule (traversal.h). Records of one
// node_id signed by different keys, or signed and unsigned, are all kept: which of them speaks
// for the id is the reader's rule (protocol/identity.h), and a newer forgery must not hide the
// owner's record from it. A `node:*` key holds one record per storing node, so that lookup
// stops early once `alpha` nodes returned it.
//
// Bounded (LookupLimits, lookup.h): a reply must carry the offset that was asked (0 for the
// first reply) and no more records than its `total` allows, or its responder is dropped and
// everything it sent is discarded; pages and records per responder and records per lookup are
// capped (paging stops at a cap, what arrived is kept). A responder's pages are held apart until
// its paging ends, so a responder dropped on its third page leaves nothing behind.
// See traversal.h for lifetime and threading.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "dht/traversal.h"

namespace llamanet::dht {

struct GetResult {
  std::vector<Record> records;  // live records, freshest first
  LookupStats stats;
  // Some responder's set was read only in part (a sample's one page, or paging cut short by a
  // limit or a silence): `records` may miss live ones, so their absence proves nothing.
  bool partial = false;
  // An AskAsync with `known`: the peer's record still says what the asker's copy does, so it
  // was not sent (`records` is empty).
  bool unchanged = false;
};

class GetValue final : public Traversal {
 public:
  using Accept = std::function<bool(const Record&)>;  // filters records (signature, age)
  using Done = std::function<void(GetResult result)>;
  // `local`: what this node itself stores under the key.
  // `sample` > 0: a sample, not the whole set: each query asks for `sample` records at most
  // ("limit": a C++ responder draws them at random from its set; a Python one sends its first
  // page), no responder is paged, and the lookup ends once it holds `sample` records, or once
  // alpha responders sent whole (small) sets.
  // `target`: where the lookup heads: sha1(key), or a random point of the key's region
  // (spread.h), which each query then names ("near") so that the nodes asked answer contacts
  // near it.
  GetValue(TraversalHost& host, std::string key, NodeId target, size_t k, size_t alpha, LookupLimits limits,
           std::vector<Record> local, Accept accept, Done done, size_t sample = 0);

 private:
  // A responder whose set spans several pages.
  struct Paging {
    ContactInfo contact;
    std::vector<Record> records;  // accepted so far, merged when paging ends
    size_t received = 0;          // records sent, accepted or not
    uint32_t next_offset = 0;     // the offset of the page in flight
    std::string txid;             // of the page in flight
    size_t pages = 0;             // pages asked for
  };

  Request MakeQuery() const override;
  void OnReply(const Candidate& from, const Response& response) override;
  void OnFinish() override;
  bool Satisfied() const override;
  bool HasExtraWork() const override { return !paging_.empty(); }

  // Why `response` (to a request for `offset`) breaks the protocol; nullptr when it does not.
  static const char* CheckReply(const Response& response, uint32_t offset);
  // The accepted records of `records`, at most `room`.
  std::vector<Record> Accepted(const std::vector<Record>& records, size_t room) const;
  void Merge(const std::vector<Record>& records);
  void OnPage(const NodeId& id, const Response& page);
  void EndPaging(const NodeId& id, bool keep);
  // Asks for the next page when the responder has more and no cap is reached; else ends paging.
  void NextPage(const NodeId& id, uint32_t total);
  size_t Buffered() const;

  const std::string key_;
  const std::optional<NodeId> near_;  // the target, when it is not sha1(key)
  const bool single_record_;
  const size_t sample_;
  const LookupLimits limits_;
  Accept accept_;
  Done done_callback_;
  std::unordered_map<std::string, Record> merged_;  // by node_id + '\n' + pubkey
  std::unordered_map<NodeId, Paging, NodeIdHash> paging_;
  size_t value_replies_ = 0;
  bool partial_ = false;
};

}  // namespace llamanet::dht
