#include "protocol/affinity.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "dht/node_id.h"

namespace llamanet::protocol {
namespace {

uint64_t ParseHex64(std::string_view hex);

// The first 8 bytes of SHA-1 over `data`, as an integer.
uint64_t Hash64(std::string_view data) { return ParseHex64(dht::NodeId::Sha1(data).ToHex().substr(0, 16)); }

std::string TextOf(const nlohmann::json& content) {
  return content.is_string() ? content.get<std::string>() : content.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

uint64_t ConversationKey(const std::vector<std::pair<std::string, std::string>>& opening) {
  std::string data;
  for (const auto& [role, content] : opening) {
    data += role;
    data += '\0';
    data += content;
    data += '\0';
  }
  uint64_t key = Hash64(data);
  return key == 0 ? 1 : key;
}

uint64_t ConversationOf(const nlohmann::json& j) {
  if (!j.is_object()) return 0;
  std::vector<std::pair<std::string, std::string>> opening;
  if (auto it = j.find("messages"); it != j.end() && it->is_array()) {
    for (const nlohmann::json& m : *it) {
      if (!m.is_object()) return 0;
      auto role = m.find("role");
      auto content = m.find("content");
      if (role == m.end() || !role->is_string()) return 0;
      opening.emplace_back(role->get<std::string>(), content == m.end() ? "" : TextOf(*content));
      if (opening.back().first == "user") break;
    }
  } else if (auto p = j.find("prompt"); p != j.end() && (p->is_string() || (p->is_array() && !p->empty()))) {
    std::string text = TextOf(p->is_string() ? *p : p->front());
    opening.emplace_back("prompt", text.substr(0, kPromptOpeningBytes));
  }
  return opening.empty() ? 0 : ConversationKey(opening);
}

RoutingFacts ReadRoutingFacts(std::string_view body) {
  RoutingFacts facts;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return facts;
  if (auto it = j.find("model"); it != j.end() && it->is_string()) facts.model = it->get<std::string>();
  facts.conversation = ConversationOf(j);
  return facts;
}

std::string ConversationHex(uint64_t key) {
  static const char* kDigits = "0123456789abcdef";
  std::string hex(16, '0');
  for (int i = 15; i >= 0; --i, key >>= 4) hex[static_cast<size_t>(i)] = kDigits[key & 0xf];
  return hex;
}

uint64_t ParseConversationHex(std::string_view hex) { return ParseHex64(hex); }

namespace {

uint64_t ParseHex64(std::string_view hex) {
  if (hex.size() != 16) return 0;
  uint64_t v = 0;
  for (char c : hex) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return 0;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace

std::vector<std::string> RendezvousRank(uint64_t conversation, std::vector<std::string> node_ids) {
  std::vector<std::pair<uint64_t, std::string>> scored;
  scored.reserve(node_ids.size());
  const std::string prefix = ConversationHex(conversation) + ":";
  for (std::string& id : node_ids) scored.emplace_back(Hash64(prefix + id), std::move(id));
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::string> out;
  out.reserve(scored.size());
  for (auto& [score, id] : scored) out.push_back(std::move(id));
  return out;
}

size_t ChooseForConversation(const std::vector<CacheReport>& ranked) {
  auto best = [&](auto better) {
    size_t pick = ranked.size();
    for (size_t i = 0; i < ranked.size(); ++i) {
      if (better(ranked[i]) && (pick == ranked.size() || better.over(ranked[i], ranked[pick]))) pick = i;
    }
    return pick;
  };
  struct HolderWithRoom {
    bool operator()(const CacheReport& r) const { return r.cached_tokens > 0 && r.free_slots > 0; }
    bool over(const CacheReport& a, const CacheReport& b) const { return a.cached_tokens > b.cached_tokens; }
  };
  struct WithRoom {
    bool operator()(const CacheReport& r) const { return r.free_slots > 0; }
    bool over(const CacheReport& a, const CacheReport& b) const {
      return a.conversations != b.conversations ? a.conversations < b.conversations : a.free_slots > b.free_slots;
    }
  };
  struct Holder {
    bool operator()(const CacheReport& r) const { return r.cached_tokens > 0; }
    bool over(const CacheReport& a, const CacheReport& b) const { return a.cached_tokens > b.cached_tokens; }
  };
  for (size_t pick : {best(HolderWithRoom{}), best(WithRoom{}), best(Holder{})}) {
    if (pick < ranked.size()) return pick;
  }
  return 0;
}

}  // namespace llamanet::protocol
