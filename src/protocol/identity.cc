#include "protocol/identity.h"

#include <algorithm>
#include <map>

#include "core/log.h"
#include "dht/record_signing.h"

namespace llamanet::protocol {

std::string NodeIdFromPublicKey(std::string_view pubkey_hex) { return std::string(pubkey_hex.substr(0, 16)); }

bool HasDerivedIdForm(std::string_view node_id) {
  return node_id.size() == 16 && std::all_of(node_id.begin(), node_id.end(),
                                             [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status CheckIdentity(const dht::Record& record, double now_s, const IdentityOptions& options) {
  if (!record.is_signed() && options.require_signed) return Status::InvalidArgument("unsigned record");
  if (record.last_seen > now_s + options.max_future_skew_s) {
    return Status::InvalidArgument("last_seen in the future");
  }
  if (!record.is_signed()) return Status::Ok();
  // The DHT's storage rule, applied again by every reader: a lying storer may skip it.
  if (!dht::CheckIdentityBinding(record).ok()) return Status::InvalidArgument("node_id not derived from pubkey");
  return dht::VerifyRecordSignature(record);
}

std::vector<dht::Record> IdentityBook::Merge(const std::vector<dht::Record>& records, double now_s) {
  // node_id -> identity (pubkey, "" for unsigned) -> that identity's newest record.
  std::unordered_map<std::string, std::map<std::string, const dht::Record*>> ids;
  for (const dht::Record& r : records) {
    if (Status s = CheckIdentity(r, now_s, options_); !s.ok()) {
      LN_DEBUG << "identity: refusing a record of " << r.node_id << ": " << s.message();
      continue;
    }
    const dht::Record*& newest = ids[r.node_id][r.pubkey];
    if (newest == nullptr || r.last_seen > newest->last_seen) newest = &r;
  }

  std::vector<dht::Record> out;
  std::lock_guard<std::mutex> lock(mu_);
  ForgetExpired(now_s);
  for (const auto& [id, by_identity] : ids) {
    auto pin = pins_.find(id);
    const dht::Record* winner = nullptr;
    if (pin != pins_.end()) {
      auto owned = by_identity.find(pin->second.pubkey);
      if (owned == by_identity.end()) continue;
      if (owned->second->last_seen < pin->second.last_seen) {
        LN_DEBUG << "identity: refusing a replayed record of " << id;
        continue;
      }
      winner = owned->second;
    } else {
      // std::map orders the unsigned identity ("") first.
      const size_t keys = by_identity.size() - by_identity.count("");
      if (keys > 1) {
        LN_DEBUG << "identity: " << keys << " keys sign for " << id << "; using none";
        continue;
      }
      winner = by_identity.rbegin()->second;
    }
    if (winner->is_signed()) {
      if (pin != pins_.end()) {
        pin->second.last_seen = std::max(pin->second.last_seen, winner->last_seen);
      } else if (pins_.size() < options_.max_pins) {
        pins_.emplace(id, Pin{winner->pubkey, winner->last_seen});
      }
    }
    out.push_back(*winner);
  }
  std::sort(out.begin(), out.end(), [](const dht::Record& a, const dht::Record& b) {
    return a.last_seen != b.last_seen ? a.last_seen > b.last_seen : a.node_id < b.node_id;
  });
  return out;
}

size_t IdentityBook::pins() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pins_.size();
}

void IdentityBook::ForgetExpired(double now_s) {
  std::erase_if(pins_, [&](const auto& entry) { return entry.second.last_seen + options_.pin_s <= now_s; });
}

}  // namespace llamanet::protocol
