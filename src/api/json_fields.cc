#include "api/json_fields.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace llamanet::api {
namespace {

std::string Range(double min, double max) {
  std::ostringstream out;
  out << min << " and " << max;
  return out.str();
}

}  // namespace

Result<nlohmann::json> ParseJsonObject(const std::string& body) {
  // Depth is bounded by the body size limit and nlohmann's iterative-enough parser; the
  // callback-free parse without exceptions reports errors as a discarded value.
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::Malformed("the request body is not valid JSON");
  if (!j.is_object()) return Status::Malformed("the request body must be a JSON object");
  return j;
}

bool Present(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && !it->is_null();
}

std::string UnknownField(const nlohmann::json& obj, const std::vector<std::string_view>& known) {
  constexpr size_t kMaxNameBytes = 64;
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    // The name goes back to the client (message and `param`): bounded, no control characters.
    std::string name = key.substr(0, kMaxNameBytes);
    for (char& c : name) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return name.empty() ? "''" : name;
  }
  return "";
}

size_t JsonDepth(const nlohmann::json& v) {
  size_t deepest = 0;
  std::vector<std::pair<const nlohmann::json*, size_t>> stack = {{&v, 1}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, depth);
    if (node->is_structured()) {
      for (const nlohmann::json& child : *node) stack.emplace_back(&child, depth + 1);
    }
  }
  return deepest;
}

Status ReadString(const nlohmann::json& obj, const char* key, std::string* out) {
  if (!Present(obj, key)) return Status::Ok();
  const nlohmann::json& v = obj.at(key);
  if (!v.is_string()) return Status::Malformed(std::string("'") + key + "' must be a string");
  *out = v.get<std::string>();
  return Status::Ok();
}

Status ReadInt(const nlohmann::json& obj, const char* key, int64_t min, int64_t max, int32_t* out) {
  if (!Present(obj, key)) return Status::Ok();
  const nlohmann::json& v = obj.at(key);
  double d = 0;
  if (v.is_number_integer()) {
    d = static_cast<double>(v.get<int64_t>());
  } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) {
    d = v.get<double>();
  } else {
    return Status::Malformed(std::string("'") + key + "' must be an integer");
  }
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    return Status::InvalidArgument(std::string("'") + key + "' must be between " + std::to_string(min) + " and " +
                                   std::to_string(max));
  }
  *out = static_cast<int32_t>(d);
  return Status::Ok();
}

Status ReadFloat(const nlohmann::json& obj, const char* key, double min, double max, float* out) {
  if (!Present(obj, key)) return Status::Ok();
  const nlohmann::json& v = obj.at(key);
  if (!v.is_number()) return Status::Malformed(std::string("'") + key + "' must be a number");
  double d = v.get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    return Status::InvalidArgument(std::string("'") + key + "' must be between " + Range(min, max));
  }
  *out = static_cast<float>(d);
  return Status::Ok();
}

Status ReadBool(const nlohmann::json& obj, const char* key, bool* out) {
  if (!Present(obj, key)) return Status::Ok();
  const nlohmann::json& v = obj.at(key);
  if (!v.is_boolean()) return Status::Malformed(std::string("'") + key + "' must be true or false");
  *out = v.get<bool>();
  return Status::Ok();
}

Status ReadStringOrList(const nlohmann::json& obj, const char* key, size_t max_items, size_t max_bytes,
                        std::vector<std::string>* out) {
  if (!Present(obj, key)) return Status::Ok();
  const nlohmann::json& v = obj.at(key);
  std::vector<std::string> items;
  if (v.is_string()) {
    items.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const nlohmann::json& item : v) {
      if (!item.is_string()) return Status::Malformed(std::string("'") + key + "' must be a string or a list of strings");
      items.push_back(item.get<std::string>());
    }
  } else {
    return Status::Malformed(std::string("'") + key + "' must be a string or a list of strings");
  }
  if (items.size() > max_items) {
    return Status::InvalidArgument(std::string("'") + key + "' has more than " + std::to_string(max_items) + " entries");
  }
  for (const std::string& s : items) {
    if (s.size() > max_bytes) {
      return Status::InvalidArgument(std::string("'") + key + "' entries must be at most " + std::to_string(max_bytes) + " bytes");
    }
  }
  *out = std::move(items);
  return Status::Ok();
}

}  // namespace llamanet::api
