#include "swarm/peer_record.h"

#include "http/json_body.h"

#include <nlohmann/json.hpp>

namespace llamanet::swarm {

using nlohmann::json;

std::string PeerRecordJson(const PeerRecord& r) {
  json j = {{"node_id", r.node_id},
            {"ip", r.ip},
            {"port", r.port},
            {"model", r.model},
            {"load", r.load},
            {"tps", r.tps},
            {"uptime", r.uptime},
            {"last_seen", r.last_seen},
            {"dht_port", r.dht_port},
            {"slots", r.slots},
            {"free_slots", r.free_slots},
            {"queue", r.queue},
            {"n_ctx", r.n_ctx},
            {"model_sha256", r.model_sha256},
            {"version", r.version},
            {"openai_compatible", r.openai_compatible}};
  return http::DumpJson(j);
}

Result<PeerRecord> ParsePeerRecord(const std::string& json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (!j.is_object()) return Status::InvalidArgument("a node record must be a JSON object");
  PeerRecord r;
  auto str = [&](const char* k, std::string* out, bool required) -> Status {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) {
      return required ? Status::InvalidArgument(std::string("node record without '") + k + "'") : Status::Ok();
    }
    if (!it->is_string()) return Status::InvalidArgument(std::string("node record '") + k + "' is not a string");
    *out = it->get<std::string>();
    return Status::Ok();
  };
  auto num = [&](const char* k, auto* out, bool required) -> Status {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) {
      return required ? Status::InvalidArgument(std::string("node record without '") + k + "'") : Status::Ok();
    }
    if (!it->is_number()) return Status::InvalidArgument(std::string("node record '") + k + "' is not a number");
    *out = it->get<std::remove_pointer_t<decltype(out)>>();
    return Status::Ok();
  };
  for (Status s : {str("node_id", &r.node_id, true), str("ip", &r.ip, true), num("port", &r.port, true),
                   str("model", &r.model, true), num("load", &r.load, false), num("tps", &r.tps, false),
                   num("uptime", &r.uptime, false), num("last_seen", &r.last_seen, false),
                   num("dht_port", &r.dht_port, false), num("slots", &r.slots, false),
                   num("free_slots", &r.free_slots, false), num("queue", &r.queue, false),
                   num("n_ctx", &r.n_ctx, false), str("model_sha256", &r.model_sha256, false),
                   str("version", &r.version, false)}) {
    if (!s.ok()) return s;
  }
  if (auto it = j.find("openai_compatible"); it != j.end() && it->is_boolean()) r.openai_compatible = it->get<bool>();
  if (r.port < 1 || r.port > 65535) return Status::InvalidArgument("node record 'port' is out of range");
  return r;
}

int32_t FreeSlotsOf(const PeerRecord& r) {
  if (r.slots > 0) return r.free_slots;
  return r.load < 1.0 ? 1 : 0;
}

}  // namespace llamanet::swarm
