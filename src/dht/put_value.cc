#include "dht/put_value.h"

#include <algorithm>
#include <random>

namespace llamanet::dht {

PutValue::PutValue(TraversalHost& host, std::string key, NodeId target, Record record, size_t k, size_t alpha,
                   size_t already_stored, Done done)
    : host_(host),
      key_(std::move(key)),
      target_(target),
      record_(std::move(record)),
      k_(k),
      alpha_(alpha),
      done_(std::move(done)),
      stored_(already_stored) {}

void PutValue::Start(const std::vector<ContactInfo>& seeds) {
  auto self = shared_from_this();
  auto lookup = std::make_shared<FindNode>(
      host_, target_, k_, alpha_,
      [self](std::vector<ContactInfo> closest, const LookupStats& stats) { self->StoreAt(closest, stats); });
  find_ = lookup;
  lookup->Start(seeds);
}

void PutValue::StartAt(const std::vector<ContactInfo>& closest) { StoreAt(closest, LookupStats{}); }

void PutValue::Finish() {
  if (finished_) return;
  if (auto lookup = find_.lock()) {
    finished_ = true;  // so that the lookup's completion stores nothing
    lookup->Finish();
    stats_ = lookup->stats();
  }
  finished_ = true;
  for (const std::string& txid : stores_) host_.CancelQuery(txid);  // no-op for those answered
  Report();
}

void PutValue::StoreAt(const std::vector<ContactInfo>& closest, const LookupStats& lookup) {
  find_.reset();
  if (finished_) return;
  stats_ = lookup;
  if (closest.size() > store_count_) {
    std::vector<ContactInfo> chosen = closest;
    if (spread_seed_ != 0) std::shuffle(chosen.begin(), chosen.end(), std::mt19937_64(spread_seed_));
    chosen.resize(store_count_);
    return StoreAt(chosen, lookup);
  }
  if (on_closest_ && !closest.empty()) on_closest_(closest);
  if (closest.empty()) {
    StoreDone(false, "no node reached");
    return;
  }
  pending_ = closest.size() + 1;  // +1 so that synchronous callbacks cannot finish early
  auto self = shared_from_this();
  for (const auto& contact : closest) {
    Request r;
    r.type = RequestType::kStore;
    r.key = key_;
    r.value.records.push_back(record_);
    ++stats_.messages;
    RpcCallbacks callbacks;
    callbacks.on_reply = [self](const Response& resp) { self->StoreDone(resp.stored.value_or(false), resp.error); };
    callbacks.on_timeout = [self] { self->StoreDone(false, "store timed out"); };
    stores_.push_back(host_.SendQuery(contact, std::move(r), std::move(callbacks)));
  }
  StoreDone(false, "");
}

void PutValue::StoreDone(bool stored, const std::string& error) {
  if (finished_) return;
  if (stored) ++stored_;
  if (!error.empty()) last_error_ = error;
  if (pending_ > 0 && --pending_ > 0) return;
  finished_ = true;
  Report();
}

void PutValue::Report() {
  if (!done_) return;
  auto done = std::move(done_);
  done_ = nullptr;
  if (stored_ == 0) {
    done(Status::Unavailable("no node stored the record: " + (last_error_.empty() ? "none answered" : last_error_)),
         stats_);
  } else {
    done(stored_, stats_);
  }
}

}  // namespace llamanet::dht
