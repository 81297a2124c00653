#include "json_output.h"

#include <nlohmann/json.hpp>

namespace llamanet::cli {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string CompletionJson(const Completion& c) {
  json attempts = json::array();
  for (const Attempt& a : c.attempts) {
    attempts.push_back({{"node_id", a.node_id},
                        {"address", a.address},
                        {"error", a.status.ok() ? json(nullptr) : json(a.status.ToString())}});
  }
  return Dump({{"text", c.text},
               {"finish_reason", c.finish_reason},
               {"model", c.model},
               {"id", c.id},
               {"node_id", c.node_id},
               {"usage",
                {{"prompt_tokens", c.usage.prompt_tokens},
                 {"completion_tokens", c.usage.completion_tokens},
                 {"total_tokens", c.usage.total_tokens}}},
               {"attempts", std::move(attempts)},
               {"filters_relaxed", c.filters_relaxed}});
}

std::string NodesJson(const std::vector<NodeInfo>& nodes) {
  json out = json::array();
  for (const NodeInfo& n : nodes) {
    out.push_back({{"node_id", n.node_id},     {"ip", n.ip},
                   {"port", n.port},           {"model", n.model},
                   {"load", n.load},           {"tps", n.tps},
                   {"uptime", n.uptime},       {"last_seen", n.last_seen},
                   {"dht_port", n.dht_port},   {"slots", n.slots},
                   {"free_slots", n.free_slots}, {"queue", n.queue},
                   {"n_ctx", n.n_ctx},         {"version", n.version}});
  }
  return Dump(out);
}

std::string NodeStatusJson(const NodeStatus& s) {
  return Dump({{"node_id", s.node_id},
               {"address", s.address},
               {"healthy", s.healthy},
               {"model", s.model},
               {"uptime", s.uptime},
               {"load", s.load},
               {"tps", s.tps},
               {"total_tokens", s.total_tokens},
               {"status", json::parse(s.status_json, nullptr, false)},
               {"health", json::parse(s.health_json, nullptr, false)}});
}

}  // namespace llamanet::cli
