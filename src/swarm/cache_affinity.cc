#include "swarm/cache_affinity.h"

#include <algorithm>
#include <future>
#include <map>

#include <nlohmann/json.hpp>

#include "swarm/peer_probe.h"

namespace llamanet::swarm {

std::string CacheAffinity::Choose(uint64_t conversation, const std::optional<protocol::CacheReport>& self,
                                  const std::vector<protocol::NodeRecord>& peers) const {
  std::map<std::string, const protocol::NodeRecord*> by_id;
  std::vector<std::string> ids;
  for (const protocol::NodeRecord& p : peers) {
    if (by_id.emplace(p.node_id, &p).second) ids.push_back(p.node_id);
  }
  if (self) ids.push_back(self->node_id);
  std::vector<std::string> ranked = protocol::RendezvousRank(conversation, std::move(ids));
  if (ranked.size() > options_.candidates) ranked.resize(options_.candidates);

  std::vector<std::future<protocol::CacheReport>> asked;
  for (const std::string& id : ranked) {
    if (self && id == self->node_id) {
      std::promise<protocol::CacheReport> here;
      here.set_value(*self);
      asked.push_back(here.get_future());
    } else {
      asked.push_back(std::async(std::launch::async, [this, conversation, peer = by_id.at(id)] {
        return Ask(conversation, *peer);
      }));
    }
  }
  std::vector<protocol::CacheReport> reports;
  for (auto& f : asked) reports.push_back(f.get());
  return reports[protocol::ChooseForConversation(reports)].node_id;
}

protocol::CacheReport CacheAffinity::Ask(uint64_t conversation, const protocol::NodeRecord& peer) const {
  Result<PeerTarget> target = verifier_.Verify(peer);
  if (!target.ok()) return {peer.node_id, 0, 0};
  protocol::CacheReport from_record{peer.node_id, 0, protocol::FreeSlotsOf(peer)};
  const std::string path = "/cache";
  httplib::Headers headers;
  if (auth_) headers.emplace(kForwardAuthHeader, auth_->Credential("GET", path, "", peer.node_id));
  Result<ProbeAnswer> answer = ProbeGet(target->ip, target->port, path + "?conversation=" + protocol::ConversationHex(conversation),
                                        options_.probe_timeout, options_.max_answer_bytes, headers);
  if (!answer.ok() || answer->status != 200) return from_record;
  nlohmann::json j = nlohmann::json::parse(answer->body, nullptr, false);
  // Only the node the record names may speak for it.
  auto id = j.is_object() ? j.find("node_id") : j.end();
  if (!j.is_object() || id == j.end() || !id->is_string() || id->get<std::string>() != peer.node_id) return from_record;
  auto count = [&](const char* field) {
    auto it = j.find(field);
    return it != j.end() && it->is_number_integer() ? std::max<int64_t>(0, std::min<int64_t>(it->get<int64_t>(), 1 << 24)) : -1;
  };
  int64_t cached = count("cached_tokens"), free_slots = count("free_slots");
  if (cached < 0 || free_slots < 0) return from_record;
  return {peer.node_id, static_cast<int32_t>(cached), static_cast<int32_t>(free_slots),
          static_cast<int32_t>(std::max<int64_t>(count("conversations"), 0))};
}

}  // namespace llamanet::swarm
