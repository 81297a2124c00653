// Traversal: the iterative Kademlia lookup that find_node, get_value and put_value share
// (libtorrent's traversal_algorithm). Candidates are kept sorted by XOR distance to the target;
// at most `alpha` queries are in flight; the closest un-asked candidate among the k closest
// live ones is asked next.
//
// Dead contacts never stall a lookup: when a query passes its soft timeout (RpcManager) it
// stops counting against alpha, another candidate is asked, and the silent contact no longer
// counts among the k closest that must answer, yet a late reply is still used. The lookup ends
// (early stop) when the k closest candidates that are not failed or silent have all answered
// (in a swarm smaller than k: and at least one node answered), or when a subclass says it is
// satisfied; or when its owner calls Finish() (deadline, cancel, node stopping: lookup.h).
//
// A responder whose reply breaks the protocol (a subclass decides: wrong offsets, inconsistent
// totals) is dropped: it counts as failed, is never asked again, what it sent is discarded by
// the subclass, and the host hears of it (TraversalHost::Misbehaved).
//
// Lifetime: create with std::make_shared and call Start(); the pending RPC callbacks (and the
// node's lookup registry) keep the traversal alive until it completes. Single-threaded: runs on
// the node's loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dht/lookup.h"
#include "dht/message.h"
#include "dht/rpc_manager.h"

namespace llamanet::dht {

// What a lookup needs from its node.
class TraversalHost {
 public:
  virtual ~TraversalHost() = default;
  virtual const NodeId& self_id() const = 0;
  // Sends `request` (the host fills txid, sender and flags) to a contact; the host updates its
  // routing table from the outcome before the callbacks run. Returns the request's txid
  // (empty when it failed at once: its on_timeout has run).
  virtual std::string SendQuery(const ContactInfo& to, Request request, RpcCallbacks callbacks) = 0;
  // Abandons a query in flight: no callback, no resend.
  virtual void CancelQuery(const std::string& txid) = 0;
  // `who` answered a lookup against the protocol (`why` names the rule) and left the lookup.
  virtual void Misbehaved(const ContactInfo& who, const char* why) = 0;
};

struct LookupStats {
  int hops = 0;       // path length to the closest node that answered (seeds are hop 1)
  int messages = 0;   // requests this lookup sent (pages included, resends not)
  int responded = 0;  // nodes that answered
  int timeouts = 0;   // nodes that never answered (or answered garbage)
  int dropped = 0;    // responders dropped for breaking the protocol
};

class Traversal : public Lookup, public std::enable_shared_from_this<Traversal> {
 public:
  Traversal(TraversalHost& host, NodeId target, size_t k, size_t alpha);
  ~Traversal() override = default;
  Traversal(const Traversal&) = delete;
  Traversal& operator=(const Traversal&) = delete;

  // Begins at `seeds` (usually the routing table's closest contacts). A lookup without seeds
  // completes at once.
  void Start(const std::vector<ContactInfo>& seeds);
  // Lookup
  void Finish() override;
  bool finished() const override { return done_; }
  bool done() const { return done_; }
  const NodeId& target() const { return target_; }
  const LookupStats& stats() const { return stats_; }

 protected:
  enum class State { kNew, kInFlight, kSoftTimedOut, kResponded, kFailed, kDropped };
  struct Candidate {
    ContactInfo contact;
    State state = State::kNew;
    int hop = 1;
    std::string txid;  // of the query in flight
  };

  virtual Request MakeQuery() const = 0;
  virtual void OnReply(const Candidate& from, const Response& response) = 0;
  virtual void OnFinish() = 0;
  // An early stop beyond the k-closest rule (e.g. enough copies of a single record).
  virtual bool Satisfied() const { return false; }
  // Work of the subclass that must end before the lookup completes (e.g. paging).
  virtual bool HasExtraWork() const { return false; }

  void AddCandidates(const std::vector<ContactInfo>& contacts, int hop);
  // Drops a responder that broke the protocol (see above). REQUIRES: it has responded.
  void DropResponder(const ContactInfo& who, const char* why);
  // Re-checks the lookup: asks more candidates or completes. Safe to call re-entrantly.
  void Advance();
  std::vector<ContactInfo> ClosestResponded(size_t n) const;
  TraversalHost& host() const { return host_; }
  size_t alpha() const { return alpha_; }
  LookupStats stats_;

 private:
  Candidate* Find(const NodeId& id);
  void Query(Candidate& candidate);
  void HandleReply(const NodeId& id, const Response& response);
  void HandleSoftTimeout(const NodeId& id);
  void HandleTimeout(const NodeId& id);
  void HandleBadReply(const NodeId& id);
  void LeaveInFlight(Candidate& c);
  void AdvanceOnce();
  void Complete();  // done_ is set: reports

  TraversalHost& host_;
  const NodeId target_;
  const size_t k_;
  const size_t alpha_;
  std::vector<Candidate> candidates_;  // closest first, at most 3k
  size_t in_flight_ = 0;               // kInFlight: count against alpha
  size_t soft_timed_out_ = 0;          // kSoftTimedOut: may still answer
  bool done_ = false;
  bool advancing_ = false;
  bool advance_again_ = false;
};

}  // namespace llamanet::dht
