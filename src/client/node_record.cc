#include "client/node_record.h"

#include <nlohmann/json.hpp>

namespace llamanet {

std::string NodeInfo::address() const {
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

namespace client {
namespace {

using nlohmann::json;

Status Required(const json& j, const char* key, json::value_t type) {
  auto it = j.find(key);
  if (it == j.end()) return Status::InvalidArgument(std::string("node record without '") + key + "'");
  const bool ok = type == json::value_t::number_integer ? it->is_number_integer() : it->type() == type;
  if (!ok) return Status::InvalidArgument(std::string("node record '") + key + "' has the wrong type");
  return Status::Ok();
}

template <typename T>
void Optional(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if constexpr (std::is_same_v<T, std::string>) {
    if (it->is_string()) *out = it->get<std::string>();
  } else {
    if (it->is_number()) *out = it->get<T>();
  }
}

}  // namespace

Result<NodeInfo> ParseNodeRecord(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::InvalidArgument("a node record must be a JSON object");
  for (Status s : {Required(j, "node_id", json::value_t::string), Required(j, "ip", json::value_t::string),
                   Required(j, "port", json::value_t::number_integer), Required(j, "model", json::value_t::string)}) {
    if (!s.ok()) return s;
  }
  NodeInfo n;
  n.node_id = j["node_id"].get<std::string>();
  n.ip = j["ip"].get<std::string>();
  const int64_t port = j["port"].get<int64_t>();
  if (port < 1 || port > 65535) return Status::InvalidArgument("node record 'port' is out of range");
  n.port = static_cast<int32_t>(port);
  n.model = j["model"].get<std::string>();
  Optional(j, "load", &n.load);
  Optional(j, "tps", &n.tps);
  Optional(j, "uptime", &n.uptime);
  Optional(j, "last_seen", &n.last_seen);
  Optional(j, "dht_port", &n.dht_port);
  Optional(j, "slots", &n.slots);
  Optional(j, "free_slots", &n.free_slots);
  Optional(j, "queue", &n.queue);
  Optional(j, "n_ctx", &n.n_ctx);
  Optional(j, "model_sha256", &n.model_sha256);
  Optional(j, "version", &n.version);
  return n;
}

}  // namespace client
}  // namespace llamanet
