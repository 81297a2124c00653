#include <algorithm>
#include <cmath>

#include <openssl/evp.h>

#include "dht/hex.h"
#include "dht/record_json.h"

namespace llamanet::dht {

using nlohmann::json;

std::string CanonicalJson(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

Result<Record> RecordFromJson(const json& object) {
  if (!object.is_object()) return Status::InvalidArgument("record: not an object");
  Record r;
  auto node_id = object.find("node_id");
  if (node_id == object.end() || !node_id->is_string() || node_id->get_ref<const std::string&>().empty() ||
      node_id->get_ref<const std::string&>().size() > kMaxRecordNodeIdBytes) {
    return Status::InvalidArgument("record: node_id must be a string of 1..128 bytes");
  }
  r.node_id = node_id->get<std::string>();
  auto last_seen = object.find("last_seen");
  if (last_seen == object.end() || !last_seen->is_number() || !std::isfinite(last_seen->get<double>()) ||
      last_seen->get<double>() < 0) {
    return Status::InvalidArgument("record: last_seen must be a finite number >= 0");
  }
  r.last_seen = last_seen->get<double>();
  auto load = object.find("load");
  if (load != object.end() && load->is_number() && std::isfinite(load->get<double>())) r.load = load->get<double>();
  auto withdrawn = object.find("withdrawn");
  if (withdrawn != object.end()) {
    if (!withdrawn->is_boolean()) return Status::InvalidArgument("record: withdrawn must be a bool");
    r.withdrawn = withdrawn->get<bool>();
  }
  auto pubkey = object.find("pubkey");
  auto sig = object.find("sig");
  if ((pubkey == object.end()) != (sig == object.end())) {
    return Status::InvalidArgument("record: pubkey and sig go together");
  }
  if (pubkey != object.end()) {
    if (!pubkey->is_string() || pubkey->get_ref<const std::string&>().size() != 64 ||
        !IsHex(pubkey->get_ref<const std::string&>())) {
      return Status::InvalidArgument("record: pubkey must be 64 hex digits");
    }
    if (!sig->is_string() || sig->get_ref<const std::string&>().size() != 128 ||
        !IsHex(sig->get_ref<const std::string&>())) {
      return Status::InvalidArgument("record: sig must be 128 hex digits");
    }
    r.pubkey = pubkey->get<std::string>();
  }
  r.json = CanonicalJson(object);
  return r;
}

json RecordToJson(const Record& record) { return json::parse(record.json, nullptr, /*allow_exceptions=*/false); }

Result<Record> ParseRecord(std::string_view json_text) {
  json object = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return Status::InvalidArgument("record: not valid JSON");
  return RecordFromJson(object);
}

Record MakeTombstone(const Record& live, double now_s) {
  json object = RecordToJson(live);
  object.erase("sig");
  object.erase("pubkey");
  object["withdrawn"] = true;
  object["last_seen"] = std::max(now_s, live.last_seen + 0.001);
  return *RecordFromJson(object);
}

std::string ContentDigest(const Record& record) {
  json object = RecordToJson(record);
  for (const char* field : {"last_seen", "uptime", "sig"}) object.erase(field);
  const std::string text = CanonicalJson(object);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  return ToHex(std::string_view(reinterpret_cast<const char*>(digest), 8));
}

}  // namespace llamanet::dht
