#include "dht/get_value.h"

#include <algorithm>

#include "dht/storage.h"

namespace llamanet::dht {

GetValue::GetValue(TraversalHost& host, std::string key, size_t k, size_t alpha, std::vector<Record> local,
                   Accept accept, Done done)
    : Traversal(host, KeyTarget(key), k, alpha),
      key_(std::move(key)),
      single_record_(IsSingleRecordKey(key_)),
      accept_(std::move(accept)),
      done_callback_(std::move(done)) {
  Merge(local);
}

Request GetValue::MakeQuery() const {
  Request r;
  r.type = RequestType::kFindValue;
  r.key = key_;
  return r;
}

void GetValue::Merge(const std::vector<Record>& records) {
  for (const Record& r : records) {
    if (r.withdrawn || (accept_ && !accept_(r))) continue;
    auto [it, inserted] = merged_.try_emplace(r.node_id + '\n' + r.pubkey, r);
    if (!inserted && r.last_seen > it->second.last_seen) it->second = r;
  }
}

void GetValue::OnReply(const Candidate& from, const Response& response) {
  if (response.contacts) AddCandidates(*response.contacts, from.hop + 1);
  if (!response.value) return;
  ++value_replies_;
  Merge(response.value->records);
  MaybeFetchPage(from.contact, response);
}

void GetValue::MaybeFetchPage(const ContactInfo& from, const Response& response) {
  if (!response.value || !response.total) return;
  const uint64_t next = uint64_t{response.offset} + response.value->records.size();
  if (response.value->records.empty() || next >= *response.total || next >= kMaxRecordsPaged) return;
  Request r = MakeQuery();
  r.offset = static_cast<uint32_t>(next);
  ++pages_in_flight_;
  ++stats_.messages;
  auto self = std::static_pointer_cast<GetValue>(shared_from_this());
  RpcCallbacks callbacks;
  callbacks.on_reply = [self, from](const Response& page) {
    --self->pages_in_flight_;
    if (page.value) {
      self->Merge(page.value->records);
      self->MaybeFetchPage(from, page);
    }
    self->Advance();
  };
  callbacks.on_timeout = [self] {
    --self->pages_in_flight_;
    self->Advance();
  };
  host().SendQuery(from, std::move(r), std::move(callbacks));
}

bool GetValue::Satisfied() const { return single_record_ && value_replies_ >= alpha(); }

void GetValue::OnFinish() {
  GetResult result;
  result.stats = stats();
  result.records.reserve(merged_.size());
  for (auto& [id, r] : merged_) result.records.push_back(std::move(r));
  std::sort(result.records.begin(), result.records.end(), [](const Record& a, const Record& b) {
    return a.last_seen != b.last_seen ? a.last_seen > b.last_seen : a.node_id < b.node_id;
  });
  if (done_callback_) done_callback_(std::move(result));
}

}  // namespace llamanet::dht
