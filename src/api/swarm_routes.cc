#include "api/swarm_routes.h"

#include "http/json_body.h"

#include <nlohmann/json.hpp>

#include <set>
#include <string>

namespace llamanet::api {

using http::HttpServer;

using nlohmann::json;

void RegisterSwarmApi(HttpServer& server, swarm::Swarm& swarm) {
  server.Get("/nodes", [&swarm](const httplib::Request&, httplib::Response& res) {
    json nodes = json::array();
    std::set<std::string> models;
    for (const protocol::NodeRecord& p : swarm.Nodes()) {
      models.insert(p.model);
      nodes.push_back({{"node_id", p.node_id},
                       {"ip", p.ip},
                       {"port", p.port},
                       {"model", p.model},
                       {"load", p.load},
                       {"tps", p.tps},
                       {"uptime", p.uptime},
                       {"last_seen", p.last_seen},
                       {"slots", p.slots},
                       {"free_slots", p.free_slots},
                       {"dht_port", p.dht_port},
                       {"generation", p.generation},
                       {"embeddings", p.embeddings}});
    }
    // A large swarm is listed in part (a sample of all_nodes, and this node's candidates):
    // `sampled` says so, and `swarm` counts the whole of it.
    const swarm::SwarmSize size = swarm.Size(nodes.size());
    json out = {{"nodes", nodes},
                {"total_count", nodes.size()},
                {"sampled", swarm.Sampled()},
                {"swarm", {{"nodes", size.nodes}, {"nodes_estimated", size.estimated}, {"models", models.size()}}},
                {"timestamp", swarm::EpochNow()}};
    http::SetJson(res, out);
  });
  server.Get("/dht/status", [&swarm](const httplib::Request&, httplib::Response& res) {
    dht::DhtSnapshot s = swarm.dht().Snapshot();
    json contacts = json::array();
    for (const dht::DhtContact& c : s.contacts) {
      contacts.push_back({{"node_id", c.node_id}, {"ip", c.ip}, {"port", c.port}, {"last_seen", c.last_seen}});
    }
    json bootstrap = json::array();
    for (const std::string& b : s.bootstrap) {
      size_t colon = b.rfind(':');
      if (colon == std::string::npos) continue;
      bootstrap.push_back({b.substr(0, colon), std::atoi(b.c_str() + colon + 1)});
    }
    json drops = json::object();
    for (const auto& [reason, n] : s.counters.drops) drops[reason] = n;
    json out = {{"node_id", s.node_id},
                {"dht_port", s.endpoint.port},
                {"running", s.running},
                {"joined", s.joined},
                {"contacts_count", contacts.size()},
                {"contacts", contacts},
                {"storage_keys", s.storage_keys},
                {"stored_records", s.stored_records},
                {"bootstrap_nodes", bootstrap},
                {"datagrams_in", s.counters.datagrams_in},
                {"datagrams_out", s.counters.datagrams_out},
                {"bytes_in", s.counters.bytes_in},
                {"bytes_out", s.counters.bytes_out},
                {"dropped", drops}};
    http::SetJson(res, out);
  });
}

}  // namespace llamanet::api
