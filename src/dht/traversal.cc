#include "dht/traversal.h"

#include <algorithm>

namespace llamanet::dht {

Traversal::Traversal(TraversalHost& host, NodeId target, size_t k, size_t alpha)
    : host_(host), target_(target), k_(k), alpha_(alpha) {}

void Traversal::Start(const std::vector<ContactInfo>& seeds) {
  AddCandidates(seeds, 1);
  Advance();
}

Traversal::Candidate* Traversal::Find(const NodeId& id) {
  for (auto& c : candidates_) {
    if (c.contact.id == id) return &c;
  }
  return nullptr;
}

void Traversal::AddCandidates(const std::vector<ContactInfo>& contacts, int hop) {
  for (const auto& contact : contacts) {
    if (contact.id == host_.self_id() || Find(contact.id) != nullptr) continue;
    auto pos = std::lower_bound(candidates_.begin(), candidates_.end(), contact, [&](const Candidate& c, const ContactInfo& x) {
      return NodeId::Closer(target_, c.contact.id, x.id);
    });
    candidates_.insert(pos, Candidate{contact, State::kNew, hop});
  }
  // Bound the list: drop the farthest candidates never asked.
  while (candidates_.size() > 3 * k_) {
    auto it = std::find_if(candidates_.rbegin(), candidates_.rend(), [](const Candidate& c) { return c.state == State::kNew; });
    if (it == candidates_.rend()) break;
    candidates_.erase(std::next(it).base());
  }
}

void Traversal::Advance() {
  if (advancing_) {
    advance_again_ = true;  // a callback ran inside SendQuery: look again once we return
    return;
  }
  advancing_ = true;
  do {
    advance_again_ = false;
    AdvanceOnce();
  } while (advance_again_ && !done_);
  advancing_ = false;
}

void Traversal::AdvanceOnce() {
  if (done_) return;
  if (Satisfied() && !HasExtraWork()) {
    done_ = true;
  } else {
    size_t live = 0;
    bool window_answered = true;
    std::vector<NodeId> to_ask;
    for (auto& c : candidates_) {
      if (live >= k_) break;
      if (c.state == State::kFailed || c.state == State::kSoftTimedOut || c.state == State::kDropped) continue;
      ++live;
      if (c.state == State::kResponded) continue;
      window_answered = false;
      if (c.state == State::kNew && in_flight_ + to_ask.size() < alpha_) to_ask.push_back(c.contact.id);
    }
    // In a swarm smaller than k every known node is in the window: once one of them has
    // answered, a silent one (likely dead) must not hold the lookup for its full timeout.
    bool silent_may_matter = live < k_ && soft_timed_out_ > 0 && stats_.responded == 0;
    if (window_answered && !silent_may_matter && !HasExtraWork()) {
      done_ = true;
    } else {
      for (const auto& id : to_ask) {
        if (Candidate* c = Find(id); c != nullptr && c->state == State::kNew) Query(*c);
      }
      return;
    }
  }
  Complete();
}

void Traversal::Finish() {
  if (done_) return;
  done_ = true;
  for (Candidate& c : candidates_) {
    if (c.state == State::kInFlight || c.state == State::kSoftTimedOut) host_.CancelQuery(c.txid);
  }
  Complete();
}

void Traversal::Complete() {
  const Candidate* closest = nullptr;
  for (const auto& c : candidates_) {
    if (c.state == State::kResponded) {
      closest = &c;
      break;
    }
  }
  stats_.hops = closest ? closest->hop : 0;
  OnFinish();
}

void Traversal::Query(Candidate& candidate) {
  candidate.state = State::kInFlight;
  ++in_flight_;
  ++stats_.messages;
  const ContactInfo contact = candidate.contact;  // `candidate` may move during the call
  auto self = shared_from_this();
  RpcCallbacks callbacks;
  callbacks.on_reply = [self, id = contact.id](const Response& r) { self->HandleReply(id, r); };
  callbacks.on_soft_timeout = [self, id = contact.id] { self->HandleSoftTimeout(id); };
  callbacks.on_timeout = [self, id = contact.id] { self->HandleTimeout(id); };
  callbacks.on_bad_reply = [self, id = contact.id] { self->HandleBadReply(id); };
  std::string txid = host_.SendQuery(contact, MakeQuery(), std::move(callbacks));
  if (Candidate* c = Find(contact.id); c != nullptr && c->state == State::kInFlight) c->txid = std::move(txid);
}

void Traversal::LeaveInFlight(Candidate& c) {
  if (c.state == State::kInFlight) --in_flight_;
  if (c.state == State::kSoftTimedOut) --soft_timed_out_;
}

void Traversal::HandleReply(const NodeId& id, const Response& response) {
  Candidate* c = Find(id);
  if (c == nullptr || (c->state != State::kInFlight && c->state != State::kSoftTimedOut)) return;
  LeaveInFlight(*c);
  c->state = State::kResponded;
  ++stats_.responded;
  if (done_) return;
  const Candidate from = *c;
  OnReply(from, response);
  Advance();
}

void Traversal::HandleSoftTimeout(const NodeId& id) {
  Candidate* c = Find(id);
  if (c == nullptr || c->state != State::kInFlight) return;
  --in_flight_;
  ++soft_timed_out_;
  c->state = State::kSoftTimedOut;
  Advance();
}

void Traversal::HandleTimeout(const NodeId& id) {
  Candidate* c = Find(id);
  if (c == nullptr || (c->state != State::kInFlight && c->state != State::kSoftTimedOut)) return;
  LeaveInFlight(*c);
  c->state = State::kFailed;
  ++stats_.timeouts;
  Advance();
}

void Traversal::DropResponder(const ContactInfo& who, const char* why) {
  Candidate* c = Find(who.id);
  if (c == nullptr || c->state != State::kResponded) return;
  c->state = State::kDropped;
  --stats_.responded;
  ++stats_.dropped;
  host_.Misbehaved(who, why);
}

void Traversal::HandleBadReply(const NodeId& id) {
  Candidate* c = Find(id);
  if (c == nullptr || (c->state != State::kInFlight && c->state != State::kSoftTimedOut)) return;
  LeaveInFlight(*c);
  c->state = State::kDropped;
  ++stats_.dropped;
  host_.Misbehaved(c->contact, "undecodable reply");
  Advance();
}

std::vector<ContactInfo> Traversal::ClosestResponded(size_t n) const {
  std::vector<ContactInfo> out;
  for (const auto& c : candidates_) {
    if (out.size() >= n) break;
    if (c.state == State::kResponded) out.push_back(c.contact);
  }
  return out;
}

}  // namespace llamanet::dht
