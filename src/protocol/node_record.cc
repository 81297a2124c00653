#include "protocol/node_record.h"

#include <arpa/inet.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace llamanet::protocol {
namespace {

using nlohmann::json;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsPrintableNoSpace(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// No control characters; other bytes are UTF-8, which the JSON parser has checked already.
bool HasNoControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsHostName(std::string_view host) {
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!IsAlpha(c) && !IsDigit(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return IsAlpha(label.front());
    start = dot + 1;
  }
}

// Reads the fields of one record object; the first failure sticks and later reads are no-ops.
class FieldReader {
 public:
  explicit FieldReader(const json& object) : object_(object) {}

  const Status& status() const { return status_; }

  // nullptr when the field is absent or null (an error too when `required`), or after a failure.
  const json* Find(const char* key, bool required) {
    if (!status_.ok()) return nullptr;
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
      if (required) Fail(key, "is missing");
      return nullptr;
    }
    return &*it;
  }

  void Fail(const char* key, const std::string& why) {
    if (status_.ok()) status_ = Status::InvalidArgument(std::string("node record: '") + key + "' " + why);
  }

  template <typename Check>
  void String(const char* key, bool required, size_t max_bytes, Check check, const char* rule, std::string* out) {
    const json* v = Find(key, required);
    if (v == nullptr) return;
    if (!v->is_string()) return Fail(key, "is not a string");
    const std::string& s = v->get_ref<const std::string&>();
    if (s.size() > max_bytes) return Fail(key, "is longer than " + std::to_string(max_bytes) + " bytes");
    if (!check(s)) return Fail(key, rule);
    *out = s;
  }

  void Int(const char* key, bool required, int64_t min, int64_t max, int32_t* out) {
    const json* v = Find(key, required);
    if (v == nullptr) return;
    if (!v->is_number_integer()) return Fail(key, "is not an integer");
    // A large unsigned number does not fit int64_t: compare it as unsigned. REQUIRES: 0 <= min <= max.
    const uint64_t u = v->get<uint64_t>();
    const bool in_range = v->is_number_unsigned() && u >= static_cast<uint64_t>(min) && u <= static_cast<uint64_t>(max);
    if (!in_range) return Fail(key, "is outside " + std::to_string(min) + ".." + std::to_string(max));
    *out = static_cast<int32_t>(v->get<int64_t>());
  }

  void Number(const char* key, bool required, double min, double max, double* out) {
    const json* v = Find(key, required);
    if (v == nullptr) return;
    if (!v->is_number()) return Fail(key, "is not a number");
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < min || d > max) return Fail(key, "is out of range or not finite");
    *out = d;
  }

  void Bool(const char* key, bool* out) {
    const json* v = Find(key, false);
    if (v == nullptr) return;
    if (!v->is_boolean()) return Fail(key, "is not a bool");
    *out = v->get<bool>();
  }

 private:
  const json& object_;
  Status status_;
};

}  // namespace

bool IsValidHost(std::string_view host, size_t max_bytes) {
  if (host.empty() || host.size() > max_bytes) return false;
  const std::string text(host);
  unsigned char address[16];
  if (inet_pton(AF_INET, text.c_str(), address) == 1 || inet_pton(AF_INET6, text.c_str(), address) == 1) return true;
  return IsHostName(host);
}

Result<NodeRecord> ParseNodeRecord(std::string_view json_text, const NodeRecordLimits& limits) {
  if (json_text.size() > limits.max_record_bytes) {
    return Status::TooLarge("node record: over " + std::to_string(limits.max_record_bytes) + " bytes");
  }
  const json object = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return Status::InvalidArgument("node record: not a JSON object");
  constexpr double kMaxDouble = std::numeric_limits<double>::max();
  constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
  NodeRecord r;
  FieldReader f(object);
  f.String(
      "node_id", true, limits.max_node_id_bytes,
      [](const std::string& s) { return !s.empty() && IsPrintableNoSpace(s); },
      "must be printable ASCII without spaces", &r.node_id);
  f.String(
      "ip", true, limits.max_host_bytes, [&](const std::string& s) { return IsValidHost(s, limits.max_host_bytes); },
      "is neither an IP address nor a host name", &r.ip);
  f.Int("port", true, 1, 65535, &r.port);
  f.String(
      "model", true, limits.max_model_bytes, [](const std::string& s) { return !s.empty() && HasNoControl(s); },
      "must be a non-empty name", &r.model);
  f.Number("load", false, 0, 1, &r.load);
  f.Number("tps", false, 0, kMaxDouble, &r.tps);
  f.Number("uptime", false, 0, kMaxDouble, &r.uptime);
  f.Number("last_seen", true, 0, kMaxDouble, &r.last_seen);
  f.Int("dht_port", false, 0, 65535, &r.dht_port);
  f.Int("slots", false, 0, limits.max_slots, &r.slots);
  f.Int("free_slots", false, 0, limits.max_slots, &r.free_slots);
  f.Int("queue", false, 0, limits.max_queue, &r.queue);
  f.Int("n_ctx", false, 0, std::min<int64_t>(limits.max_n_ctx, kMaxInt), &r.n_ctx);
  f.String(
      "model_sha256", false, 64, [](const std::string& s) { return s.empty() || (s.size() == 64 && IsLowerHex(s)); },
      "must be 64 lowercase hex digits", &r.model_sha256);
  f.String(
      "version", false, limits.max_version_bytes, [](const std::string& s) { return HasNoControl(s); },
      "has a control character", &r.version);
  f.Bool("openai_compatible", &r.openai_compatible);
  f.Bool("generation", &r.generation);
  f.Bool("embeddings", &r.embeddings);
  f.String(
      "pubkey", false, 64, [](const std::string& s) { return s.size() == 64 && IsLowerHex(s); },
      "must be 64 lowercase hex digits", &r.pubkey);
  if (!f.status().ok()) return f.status();
  if (r.free_slots > r.slots) return Status::InvalidArgument("node record: 'free_slots' is above 'slots'");
  return r;
}

std::string NodeRecordJson(const NodeRecord& r) {
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
            {"openai_compatible", r.openai_compatible},
            {"generation", r.generation},
            {"embeddings", r.embeddings}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

int32_t FreeSlotsOf(const NodeRecord& r) {
  if (r.slots > 0) return r.free_slots;
  return r.load < 1.0 ? 1 : 0;
}

}  // namespace llamanet::protocol
