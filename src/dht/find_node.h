// FindNode: the iterative find_node lookup; yields the k closest nodes that answered.
// See traversal.h for lifetime and threading.
#pragma once

#include <functional>
#include <vector>

#include "dht/traversal.h"

namespace llamanet::dht {

class FindNode final : public Traversal {
 public:
  using Done = std::function<void(std::vector<ContactInfo> closest, const LookupStats& stats)>;
  FindNode(TraversalHost& host, NodeId target, size_t k, size_t alpha, Done done)
      : Traversal(host, target, k, alpha), k_(k), done_callback_(std::move(done)) {}

 private:
  Request MakeQuery() const override;
  void OnReply(const Candidate& from, const Response& response) override;
  void OnFinish() override;

  const size_t k_;
  Done done_callback_;
};

}  // namespace llamanet::dht
