#include "dht/find_node.h"

namespace llamanet::dht {

Request FindNode::MakeQuery() const {
  Request r;
  r.type = RequestType::kFindNode;
  r.target = target();
  return r;
}

void FindNode::OnReply(const Candidate& from, const Response& response) {
  if (response.contacts) AddCandidates(*response.contacts, from.hop + 1);
}

void FindNode::OnFinish() {
  if (done_callback_) done_callback_(ClosestResponded(k_), stats());
}

}  // namespace llamanet::dht
