#include "dht/wire_codec.h"

#include <limits>

#include "dht/hex.h"
#include "dht/record_json.h"

namespace llamanet::dht {

using nlohmann::json;

const char* RequestTypeName(RequestType type) {
  switch (type) {
    case RequestType::kPing: return "ping";
    case RequestType::kStore: return "store";
    case RequestType::kFindNode: return "find_node";
    case RequestType::kFindValue: return "find_value";
  }
  return "?";
}

const char* DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kOversized: return "oversized";
    case DropReason::kTooDeep: return "too_deep";
    case DropReason::kNotJson: return "not_json";
    case DropReason::kNotObject: return "not_object";
    case DropReason::kBadMac: return "bad_mac";
    case DropReason::kUnknownType: return "unknown_type";
    case DropReason::kBadTxid: return "bad_txid";
    case DropReason::kBadSenderId: return "bad_sender_id";
    case DropReason::kBadFlag: return "bad_flag";
    case DropReason::kBadKey: return "bad_key";
    case DropReason::kBadTarget: return "bad_target";
    case DropReason::kBadOffset: return "bad_offset";
    case DropReason::kBadToken: return "bad_token";
    case DropReason::kBadKnown: return "bad_known";
    case DropReason::kBadValue: return "bad_value";
    case DropReason::kBadData: return "bad_data";
    case DropReason::kBadContacts: return "bad_contacts";
    case DropReason::kRateLimited: return "rate_limited";
    case DropReason::kUnknownTxid: return "unknown_txid";
    case DropReason::kWrongSource: return "wrong_source";
    case DropReason::kNotServing: return "not_serving";
    case DropReason::kCount: break;
  }
  return "?";
}

int JsonNestingDepth(std::string_view text, int cap) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) max_depth = depth;
      if (max_depth > cap) return max_depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

namespace {

// A failed check: the reason plus the field, thrown nowhere (returned by value).
struct Fail {
  DropReason reason;
  std::string detail;
};

using FieldResult = std::optional<Fail>;

std::optional<NodeId> IdField(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  return NodeId::FromHex(it->get_ref<const std::string&>());
}

FieldResult StringField(const json& obj, const char* name, size_t max_bytes, DropReason reason, std::string* out) {
  auto it = obj.find(name);
  if (it == obj.end()) return Fail{reason, std::string("missing '") + name + "'"};
  if (!it->is_string()) return Fail{reason, std::string("'") + name + "' is not a string"};
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty() || s.size() > max_bytes) {
    return Fail{reason, std::string("'") + name + "' must have 1.." + std::to_string(max_bytes) + " bytes"};
  }
  *out = s;
  return std::nullopt;
}

// Optional non-negative integer below 2^31.
FieldResult OffsetField(const json& obj, const char* name, DropReason reason, std::optional<uint32_t>* out) {
  auto it = obj.find(name);
  if (it == obj.end()) return std::nullopt;
  if (!it->is_number_unsigned() || it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return Fail{reason, std::string("'") + name + "' must be an integer in 0..2^31"};
  }
  *out = static_cast<uint32_t>(it->get<uint64_t>());
  return std::nullopt;
}

FieldResult ValueField(const json& value, const WireLimits& limits, RecordValue* out) {
  auto add = [&](const json& obj) -> FieldResult {
    auto record = RecordFromJson(obj);
    if (!record.ok()) return Fail{DropReason::kBadValue, record.status().message()};
    out->records.push_back(std::move(record).value());
    return std::nullopt;
  };
  if (value.is_object()) return add(value);
  if (!value.is_array()) return Fail{DropReason::kBadValue, "value must be a record object or an array of them"};
  if (value.size() > limits.max_records) return Fail{DropReason::kBadValue, "value has too many records"};
  out->is_array = true;
  for (const auto& element : value) {
    if (auto fail = add(element)) return fail;
  }
  return std::nullopt;
}

FieldResult ContactsField(const json& contacts, const WireLimits& limits, std::vector<ContactInfo>* out) {
  if (!contacts.is_array()) return Fail{DropReason::kBadContacts, "contacts must be an array"};
  if (contacts.size() > limits.max_contacts) return Fail{DropReason::kBadContacts, "too many contacts"};
  for (const auto& c : contacts) {
    if (!c.is_object()) return Fail{DropReason::kBadContacts, "contact must be an object"};
    auto id = IdField(c, "node_id");
    if (!id) return Fail{DropReason::kBadContacts, "contact node_id must be 16..64 hex digits"};
    auto ip = c.find("ip");
    if (ip == c.end() || !ip->is_string() || !IsIpLiteral(ip->get_ref<const std::string&>())) {
      return Fail{DropReason::kBadContacts, "contact ip must be a numeric address"};
    }
    auto port = c.find("port");
    if (port == c.end() || !port->is_number_unsigned() || port->get<uint64_t>() == 0 || port->get<uint64_t>() > 65535) {
      return Fail{DropReason::kBadContacts, "contact port must be 1..65535"};
    }
    out->push_back(ContactInfo{*id, Endpoint{ip->get<std::string>(), static_cast<uint16_t>(port->get<uint64_t>())}});
  }
  return std::nullopt;
}

constexpr size_t kMaxTokenBytes = 64;

FieldResult DecodeRequest(const json& j, RequestType type, const WireLimits& limits, Request* req) {
  req->type = type;
  if (auto ro = j.find("ro"); ro != j.end()) {
    if (!ro->is_boolean()) return Fail{DropReason::kBadFlag, "'ro' must be a bool"};
    req->read_only = ro->get<bool>();
  }
  if (auto token = j.find("token"); token != j.end()) {
    if (!token->is_string() || token->get_ref<const std::string&>().size() > kMaxTokenBytes) {
      return Fail{DropReason::kBadToken, "'token' must be a string of 0..64 bytes"};
    }
    req->token = token->get<std::string>();
  }
  switch (type) {
    case RequestType::kPing:
      return std::nullopt;
    case RequestType::kStore: {
      if (auto f = StringField(j, "key", limits.max_key_bytes, DropReason::kBadKey, &req->key)) return f;
      auto value = j.find("value");
      if (value == j.end()) return Fail{DropReason::kBadValue, "missing 'value'"};
      return ValueField(*value, limits, &req->value);
    }
    case RequestType::kFindNode: {
      auto target = IdField(j, "target_id");
      if (!target) return Fail{DropReason::kBadTarget, "'target_id' must be 16..64 hex digits"};
      req->target = *target;
      return std::nullopt;
    }
    case RequestType::kFindValue: {
      if (auto f = StringField(j, "key", limits.max_key_bytes, DropReason::kBadKey, &req->key)) return f;
      std::optional<uint32_t> offset;
      if (auto f = OffsetField(j, "offset", DropReason::kBadOffset, &offset)) return f;
      req->offset = offset.value_or(0);
      if (auto v = j.find("value_only"); v != j.end()) {
        if (!v->is_boolean()) return Fail{DropReason::kBadFlag, "'value_only' must be a bool"};
        req->value_only = v->get<bool>();
      }
      if (auto v = j.find("known"); v != j.end()) {
        if (!v->is_string() || v->get_ref<const std::string&>().empty() || v->get_ref<const std::string&>().size() > 64 ||
            !IsHex(v->get_ref<const std::string&>())) {
          return Fail{DropReason::kBadKnown, "'known' must be 1..64 hex digits"};
        }
        req->known = v->get<std::string>();
      }
      std::optional<uint32_t> limit;
      if (auto f = OffsetField(j, "limit", DropReason::kBadOffset, &limit)) return f;
      req->limit = limit.value_or(0);
      if (j.contains("near")) {
        req->near = IdField(j, "near");
        if (!req->near) return Fail{DropReason::kBadTarget, "'near' must be 16..64 hex digits"};
      }
      return std::nullopt;
    }
  }
  return Fail{DropReason::kUnknownType, "unknown request type"};
}

FieldResult DecodeResponse(const json& j, const WireLimits& limits, Response* resp) {
  auto data_it = j.find("data");
  if (data_it == j.end() || !data_it->is_object()) return Fail{DropReason::kBadData, "'data' must be an object"};
  const json& data = *data_it;
  auto bool_field = [&](const char* name, auto&& set) -> FieldResult {
    auto it = data.find(name);
    if (it == data.end()) return std::nullopt;
    if (!it->is_boolean()) return Fail{DropReason::kBadData, std::string("data.") + name + " must be a bool"};
    set(it->template get<bool>());
    return std::nullopt;
  };
  if (auto f = bool_field("pong", [&](bool v) { resp->pong = v; })) return f;
  if (auto f = bool_field("stored", [&](bool v) { resp->stored = v; })) return f;
  if (auto f = bool_field("truncated", [&](bool v) { resp->truncated = v; })) return f;
  if (auto f = bool_field("unproven", [&](bool v) { resp->unproven = v; })) return f;
  if (auto f = bool_field("unchanged", [&](bool v) { resp->unchanged = v; })) return f;
  if (auto it = data.find("token"); it != data.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
        it->get_ref<const std::string&>().size() > kMaxTokenBytes) {
      return Fail{DropReason::kBadData, "data.token must be a string of 1..64 bytes"};
    }
    resp->token = it->get<std::string>();
  }
  if (auto it = data.find("sender_id"); it != data.end()) {
    resp->data_sender = IdField(data, "sender_id");
    if (!resp->data_sender) return Fail{DropReason::kBadData, "data.sender_id must be 16..64 hex digits"};
  }
  if (auto it = data.find("error"); it != data.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() > 256) {
      return Fail{DropReason::kBadData, "data.error must be a string of at most 256 bytes"};
    }
    resp->error = it->get<std::string>();
  }
  if (auto f = OffsetField(data, "total", DropReason::kBadData, &resp->total)) return f;
  std::optional<uint32_t> offset;
  if (auto f = OffsetField(data, "offset", DropReason::kBadData, &offset)) return f;
  resp->offset = offset.value_or(0);
  if (auto it = data.find("contacts"); it != data.end()) {
    resp->contacts.emplace();
    if (auto f = ContactsField(*it, limits, &*resp->contacts)) return f;
  }
  if (auto it = data.find("value"); it != data.end()) {
    resp->value.emplace();
    if (auto f = ValueField(*it, limits, &*resp->value)) return f;
  }
  return std::nullopt;
}

}  // namespace

size_t EncodedContactSize(const ContactInfo& c) {
  // {"ip":"<ip>","node_id":"<hex>","port":<port>}: numeric text needs no escaping.
  constexpr size_t kFixed = sizeof(R"({"ip":"","node_id":"","port":})") - 1;
  return kFixed + c.endpoint.ip.size() + c.id.ToHex().size() + std::to_string(c.endpoint.port).size();
}

namespace {

json ContactsToJson(const std::vector<ContactInfo>& contacts) {
  json out = json::array();
  for (const auto& c : contacts) {
    out.push_back({{"node_id", c.id.ToHex()}, {"ip", c.endpoint.ip}, {"port", c.endpoint.port}});
  }
  return out;
}

json ValueToJson(const RecordValue& value) {
  if (!value.is_array && value.records.size() == 1) return RecordToJson(value.records.front());
  json out = json::array();
  for (const auto& r : value.records) out.push_back(RecordToJson(r));
  return out;
}

json RequestToJson(const Request& req) {
  json j = {{"type", RequestTypeName(req.type)}, {"id", req.txid}, {"sender_id", req.sender.ToHex()}};
  if (req.read_only) j["ro"] = true;
  if (req.token) j["token"] = *req.token;
  switch (req.type) {
    case RequestType::kPing:
      break;
    case RequestType::kStore:
      j["key"] = req.key;
      j["value"] = ValueToJson(req.value);
      break;
    case RequestType::kFindNode:
      j["target_id"] = req.target.ToHex();
      break;
    case RequestType::kFindValue:
      j["key"] = req.key;
      if (req.offset > 0) j["offset"] = req.offset;
      if (req.value_only) j["value_only"] = true;
      if (!req.known.empty()) j["known"] = req.known;
      if (req.limit > 0) j["limit"] = req.limit;
      if (req.near) j["near"] = req.near->ToHex();
      break;
  }
  return j;
}

json ResponseToJson(const Response& resp) {
  json data = json::object();
  if (resp.pong) data["pong"] = true;
  if (resp.data_sender) data["sender_id"] = resp.data_sender->ToHex();
  if (resp.stored) data["stored"] = *resp.stored;
  if (!resp.error.empty()) data["error"] = resp.error;
  if (resp.contacts) data["contacts"] = ContactsToJson(*resp.contacts);
  if (resp.value) data["value"] = ValueToJson(*resp.value);
  if (resp.truncated) data["truncated"] = true;
  if (resp.total) data["total"] = *resp.total;
  if (resp.offset > 0) data["offset"] = resp.offset;
  if (!resp.token.empty()) data["token"] = resp.token;
  if (resp.unproven) data["unproven"] = true;
  if (resp.unchanged) data["unchanged"] = true;
  return {{"type", "response"}, {"id", resp.txid}, {"sender_id", resp.sender.ToHex()}, {"data", std::move(data)}};
}

}  // namespace

WireCodec::WireCodec(WireLimits limits, std::string swarm_secret) : limits_(limits) {
  if (!swarm_secret.empty()) auth_.emplace(std::move(swarm_secret));
}

DecodeResult WireCodec::Decode(std::string_view datagram) const {
  DecodeResult result;
  auto fail = [&](DropReason reason, std::string detail) {
    result.reason = reason;
    result.detail = std::move(detail);
    return result;
  };
  if (datagram.size() > limits_.max_datagram_bytes) return fail(DropReason::kOversized, "datagram too large");
  if (JsonNestingDepth(datagram, limits_.max_depth) > limits_.max_depth) {
    return fail(DropReason::kTooDeep, "JSON nested too deep");
  }
  json j = json::parse(datagram, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(DropReason::kNotJson, "not valid JSON");
  if (!j.is_object()) return fail(DropReason::kNotObject, "not a JSON object");
  if (auth_) {
    auto mac = j.find("mac");
    if (mac == j.end() || !mac->is_string()) return fail(DropReason::kBadMac, "missing 'mac'");
    std::string mac_hex = mac->get<std::string>();
    j.erase("mac");
    if (!auth_->Verify(CanonicalJson(j), mac_hex)) return fail(DropReason::kBadMac, "wrong 'mac'");
  }
  auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) return fail(DropReason::kUnknownType, "missing 'type'");
  const auto& type = type_it->get_ref<const std::string&>();
  std::string txid;
  if (auto f = StringField(j, "id", limits_.max_txid_bytes, DropReason::kBadTxid, &txid)) {
    return fail(f->reason, f->detail);
  }
  // Decide the kind before the sender check so that an unknown type is reported as such.
  static constexpr RequestType kTypes[] = {RequestType::kPing, RequestType::kStore, RequestType::kFindNode,
                                           RequestType::kFindValue};
  std::optional<RequestType> request_type;
  for (RequestType t : kTypes) {
    if (type == RequestTypeName(t)) request_type = t;
  }
  if (!request_type && type != "response") return fail(DropReason::kUnknownType, "unknown type '" + type + "'");
  result.is_response = !request_type;
  result.txid = txid;
  auto sender = IdField(j, "sender_id");
  if (!sender) return fail(DropReason::kBadSenderId, "'sender_id' must be 16..64 hex digits");
  try {
    if (request_type) {
      Request req;
      req.txid = std::move(txid);
      req.sender = *sender;
      if (auto f = DecodeRequest(j, *request_type, limits_, &req)) return fail(f->reason, f->detail);
      result.message = std::move(req);
    } else {
      Response resp;
      resp.txid = std::move(txid);
      resp.sender = *sender;
      if (auto f = DecodeResponse(j, limits_, &resp)) return fail(f->reason, f->detail);
      result.message = std::move(resp);
    }
  } catch (const json::exception& e) {
    // Every access above is type-checked first; this is a last line of defence.
    return fail(DropReason::kNotJson, e.what());
  }
  return result;
}

std::string WireCodec::Encode(const Message& message) const {
  json j = std::holds_alternative<Request>(message) ? RequestToJson(std::get<Request>(message))
                                                    : ResponseToJson(std::get<Response>(message));
  if (auth_) {
    std::string canonical = CanonicalJson(j);
    j["mac"] = auth_->Mac(canonical);
  }
  return CanonicalJson(j);
}

}  // namespace llamanet::dht
