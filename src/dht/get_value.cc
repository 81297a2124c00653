#include "dht/get_value.h"

#include <algorithm>

#include "dht/storage.h"

namespace llamanet::dht {

GetValue::GetValue(TraversalHost& host, std::string key, NodeId target, size_t k, size_t alpha, LookupLimits limits,
                   std::vector<Record> local, Accept accept, Done done, size_t sample)
    : Traversal(host, target, k, alpha),
      key_(std::move(key)),
      near_(target == KeyTarget(key_) ? std::nullopt : std::optional<NodeId>(target)),
      single_record_(IsSingleRecordKey(key_)),
      sample_(sample),
      limits_(limits),
      accept_(std::move(accept)),
      done_callback_(std::move(done)) {
  Merge(Accepted(local, local.size()));
}

Request GetValue::MakeQuery() const {
  Request r;
  r.type = RequestType::kFindValue;
  r.key = key_;
  r.limit = static_cast<uint32_t>(std::min<size_t>(sample_, UINT32_MAX));
  r.near = near_;
  return r;
}

const char* GetValue::CheckReply(const Response& response, uint32_t offset) {
  if (response.offset != offset) return "reply offset differs from the offset asked";
  if (response.value && response.total && uint64_t{offset} + response.value->records.size() > *response.total) {
    return "reply holds more records than its total";
  }
  return nullptr;
}

std::vector<Record> GetValue::Accepted(const std::vector<Record>& records, size_t room) const {
  std::vector<Record> out;
  const size_t n = std::min(records.size(), room);
  for (size_t i = 0; i < n; ++i) {
    const Record& r = records[i];
    if (!r.withdrawn && (!accept_ || accept_(r))) out.push_back(r);
  }
  return out;
}

void GetValue::Merge(const std::vector<Record>& records) {
  for (const Record& r : records) {
    auto key = r.node_id + '\n' + r.pubkey;
    auto it = merged_.find(key);
    if (it == merged_.end()) {
      if (merged_.size() < limits_.max_records_per_lookup) merged_.emplace(std::move(key), r);
    } else if (r.last_seen > it->second.last_seen) {
      it->second = r;
    }
  }
}

size_t GetValue::Buffered() const {
  size_t n = 0;
  for (const auto& [id, p] : paging_) n += p.records.size();
  return n;
}

void GetValue::OnReply(const Candidate& from, const Response& response) {
  if (const char* why = CheckReply(response, 0)) return DropResponder(from.contact, why);
  if (response.contacts) AddCandidates(*response.contacts, from.hop + 1);
  if (!response.value) return;
  ++value_replies_;
  const std::vector<Record>& records = response.value->records;
  const bool more = response.total && !records.empty() && records.size() < *response.total;
  if (more && sample_ > 0) partial_ = true;
  if (!more || single_record_ || sample_ > 0) return Merge(Accepted(records, limits_.max_records_per_responder));
  Paging p;
  p.contact = from.contact;
  p.records = Accepted(records, limits_.max_records_per_responder);
  p.next_offset = static_cast<uint32_t>(records.size());
  p.received = records.size();
  paging_.insert_or_assign(from.contact.id, std::move(p));
  NextPage(from.contact.id, *response.total);
}

void GetValue::NextPage(const NodeId& id, uint32_t total) {
  auto it = paging_.find(id);
  if (it == paging_.end()) return;
  Paging& p = it->second;
  const bool room = p.pages < limits_.max_pages_per_responder && p.received < limits_.max_records_per_responder &&
                    merged_.size() < limits_.max_records_per_lookup && Buffered() < limits_.max_records_per_lookup;
  if (p.next_offset >= total) return EndPaging(id, true);
  if (done() || !room) {
    partial_ = true;
    return EndPaging(id, true);
  }
  ++p.pages;
  ++stats_.messages;
  Request r = MakeQuery();
  r.offset = p.next_offset;
  const ContactInfo contact = p.contact;  // `p` may go inside SendQuery
  auto self = std::static_pointer_cast<GetValue>(shared_from_this());
  RpcCallbacks callbacks;
  callbacks.on_reply = [self, id](const Response& page) { self->OnPage(id, page); };
  callbacks.on_timeout = [self, id] {
    self->partial_ = true;
    self->EndPaging(id, true);  // silent now: keep what it sent
    self->Advance();
  };
  callbacks.on_bad_reply = [self, contact] {
    self->EndPaging(contact.id, false);
    self->DropResponder(contact, "undecodable reply");
    self->Advance();
  };
  std::string txid = host().SendQuery(contact, std::move(r), std::move(callbacks));
  if (auto again = paging_.find(id); again != paging_.end()) again->second.txid = std::move(txid);
}

void GetValue::OnPage(const NodeId& id, const Response& page) {
  auto it = paging_.find(id);
  if (done() || it == paging_.end()) return;
  Paging& p = it->second;
  if (const char* why = CheckReply(page, p.next_offset)) {
    const ContactInfo who = p.contact;
    EndPaging(id, false);
    DropResponder(who, why);
    return Advance();
  }
  static const std::vector<Record> kNone;
  const std::vector<Record>& records = page.value ? page.value->records : kNone;
  std::vector<Record> accepted = Accepted(records, limits_.max_records_per_responder - p.received);
  p.records.insert(p.records.end(), std::make_move_iterator(accepted.begin()), std::make_move_iterator(accepted.end()));
  p.received += records.size();
  p.next_offset += static_cast<uint32_t>(records.size());
  if (records.empty() || !page.total) {
    EndPaging(id, true);  // the set ended (or shrank) under us
  } else {
    NextPage(id, *page.total);
  }
  Advance();
}

void GetValue::EndPaging(const NodeId& id, bool keep) {
  auto it = paging_.find(id);
  if (it == paging_.end()) return;
  if (keep) Merge(it->second.records);
  paging_.erase(it);
}

bool GetValue::Satisfied() const {
  if (single_record_) return value_replies_ >= alpha();
  // A sample also ends once alpha storing nodes each sent their whole set (a small one, that
  // fits a page): they are the nodes it was published to, so asking on would find the same.
  // Not in a key's region, where each storing node holds its own few of the set.
  return sample_ > 0 && (merged_.size() >= sample_ ||
                         (!near_ && value_replies_ >= alpha() && !partial_ && paging_.empty()));
}

void GetValue::OnFinish() {
  for (auto& [id, p] : paging_) {  // cut off by Finish(): keep what came, ask no more
    partial_ = true;
    host().CancelQuery(p.txid);
    Merge(p.records);
  }
  paging_.clear();
  GetResult result;
  result.stats = stats();
  result.partial = partial_;
  result.records.reserve(merged_.size());
  for (auto& [id, r] : merged_) result.records.push_back(std::move(r));
  std::sort(result.records.begin(), result.records.end(), [](const Record& a, const Record& b) {
    return a.last_seen != b.last_seen ? a.last_seen > b.last_seen : a.node_id < b.node_id;
  });
  if (done_callback_) done_callback_(std::move(result));
}

}  // namespace llamanet::dht
