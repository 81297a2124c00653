#include "dht/endpoint.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>

namespace llamanet::dht {

std::string Endpoint::ToString() const {
  if (ip.find(':') != std::string::npos) return "[" + ip + "]:" + std::to_string(port);
  return ip + ":" + std::to_string(port);
}

bool IsIpLiteral(std::string_view ip) {
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return false;
  std::string text(ip);
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

namespace {

// The address as 4 bytes (IPv4, also when written as IPv4-mapped IPv6) or 16; empty when not
// numeric.
std::string AddressBytes(std::string_view ip) {
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return {};
  std::string text(ip);
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 4);
  if (inet_pton(AF_INET6, text.c_str(), buf) != 1) return {};
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(std::begin(kMapped), std::end(kMapped), buf)) return std::string(reinterpret_cast<char*>(buf + 12), 4);
  return std::string(reinterpret_cast<char*>(buf), 16);
}

}  // namespace

std::string SubnetOf(std::string_view ip) {
  const std::string bytes = AddressBytes(ip);
  if (bytes.size() == 4) {
    auto b = [&](int i) { return std::to_string(static_cast<unsigned char>(bytes[i])); };
    return b(0) + "." + b(1) + "." + b(2) + ".0/24";
  }
  if (bytes.size() == 16) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 8; ++i) {
      const auto c = static_cast<unsigned char>(bytes[i]);
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
      if (i % 2 == 1) out.push_back(':');
    }
    return out + ":/64";
  }
  return {};
}

bool IsLoopback(std::string_view ip) {
  const std::string bytes = AddressBytes(ip);
  if (bytes.size() == 4) return bytes[0] == 127;
  return bytes.size() == 16 && bytes == std::string(15, '\0') + '\1';
}

Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view host_port) {
  std::string_view host;
  std::string_view port_text;
  if (!host_port.empty() && host_port.front() == '[') {
    size_t close = host_port.find(']');
    if (close == std::string_view::npos || close + 1 >= host_port.size() || host_port[close + 1] != ':') {
      return Status::InvalidArgument("bad address '" + std::string(host_port) + "': expected [ipv6]:port");
    }
    host = host_port.substr(1, close - 1);
    port_text = host_port.substr(close + 2);
  } else {
    size_t colon = host_port.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("bad address '" + std::string(host_port) + "': expected host:port");
    }
    host = host_port.substr(0, colon);
    port_text = host_port.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return Status::InvalidArgument("bad address '" + std::string(host_port) + "': expected host:port");
  }
  return std::make_pair(std::string(host), static_cast<uint16_t>(port));
}

Result<std::vector<Endpoint>> ResolveHostPort(std::string_view host_port) {
  auto split = SplitHostPort(host_port);
  if (!split.ok()) return split.status();
  const auto& [host, port] = *split;
  if (IsIpLiteral(host)) return std::vector<Endpoint>{Endpoint{host, port}};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* list = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) return Status::NotFound("cannot resolve '" + host + "': " + gai_strerror(rc));
  std::vector<Endpoint> out;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, text, sizeof text);
    } else if (ai->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, text, sizeof text);
    } else {
      continue;
    }
    Endpoint e{text, port};
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  freeaddrinfo(list);
  if (out.empty()) return Status::NotFound("cannot resolve '" + host + "': no addresses");
  return out;
}

}  // namespace llamanet::dht
