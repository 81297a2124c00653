#include "http/request_head.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace llamanet::http {
namespace {

// RFC 9110 section 5.6.2.
bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

HeadVerdict Bad(std::string message) { return {400, std::move(message)}; }

HeadVerdict CheckRequestLine(std::string_view line, std::string_view* method) {
  size_t a = line.find(' ');
  size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
  if (b == std::string_view::npos || line.find(' ', b + 1) != std::string_view::npos) {
    return Bad("the request line is not 'METHOD TARGET HTTP/1.1'");
  }
  *method = line.substr(0, a);
  std::string_view target = line.substr(a + 1, b - a - 1);
  std::string_view version = line.substr(b + 1);
  if (!IsToken(*method)) return Bad("the request method is not a token");
  if (target.empty() || !std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return Bad("the request target must be visible ASCII (percent-encode other bytes)");
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return Bad("only HTTP/1.0 and HTTP/1.1 are served");
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
  if (std::find(std::begin(kMethods), std::end(kMethods), *method) == std::end(kMethods)) {
    return {501, "the request method is not implemented"};
  }
  return {};
}

}  // namespace

HeadVerdict CheckHead(std::string_view head, size_t max_body_bytes) {
  std::string_view method;
  std::optional<std::string_view> content_length;
  bool transfer_encoding = false;
  bool first = true;
  while (!head.empty()) {
    size_t eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first) {
      first = false;
      if (HeadVerdict v = CheckRequestLine(line, &method); v.status) return v;
      continue;
    }
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) return Bad("folded header lines are not served");
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      return Bad("a header line is not 'Name: value' with a token name");
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = Trim(line.substr(colon + 1));
    for (char c : value) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return Bad("a header value holds a control character");
    }
    if (EqualsIgnoreCase(name, "Content-Length")) {
      if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), ::isdigit)) {
        return Bad("Content-Length is not a number");
      }
      if (content_length && *content_length != value) return Bad("repeated Content-Length headers differ");
      content_length = value;
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      transfer_encoding = true;
    }
  }
  if (content_length && std::stoull(std::string(*content_length)) > max_body_bytes) {
    return {413, "the request body is over " + std::to_string(max_body_bytes) + " bytes"};
  }
  if (!content_length && !transfer_encoding && (method == "POST" || method == "PUT" || method == "PATCH")) {
    return {411, "a request body needs Content-Length or chunked Transfer-Encoding"};
  }
  return {};
}

}  // namespace llamanet::http
