#include "swarm/address_policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

namespace llamanet::swarm {
namespace {

// Longest DNS name; anything longer in a record is not a host.
constexpr size_t kMaxHostBytes = 253;

AddressKind ClassifyV4(uint32_t a) {
  if (a == 0xA9FEA9FE /* 169.254.169.254 */ || a == 0x646464C8 /* 100.100.100.200 */) return AddressKind::kMetadata;
  if ((a >> 24) == 0) return AddressKind::kUnspecified;
  if ((a >> 24) == 127) return AddressKind::kLoopback;
  if ((a >> 16) == 0xA9FE) return AddressKind::kLinkLocal;
  if ((a >> 28) == 0xE || a == 0xFFFFFFFF) return AddressKind::kMulticast;
  return AddressKind::kOrdinary;
}

uint32_t V4At(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

AddressKind ClassifyV6(const std::array<unsigned char, 16>& b) {
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static constexpr unsigned char kEc2Metadata[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (std::memcmp(b.data(), kMapped, 12) == 0 || std::memcmp(b.data(), kNat64, 12) == 0) return ClassifyV4(V4At(&b[12]));
  if (std::memcmp(b.data(), kEc2Metadata, 16) == 0) return AddressKind::kMetadata;
  bool zero_head = true;
  for (size_t i = 0; i < 15; ++i) zero_head = zero_head && b[i] == 0;
  if (zero_head && b[15] == 0) return AddressKind::kUnspecified;
  if (zero_head && b[15] == 1) return AddressKind::kLoopback;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressKind::kLinkLocal;
  if (b[0] == 0xff) return AddressKind::kMulticast;
  return AddressKind::kOrdinary;
}

}  // namespace

AddressKind ClassifyAddress(const std::string& ip) {
  unsigned char v4[4];
  if (inet_pton(AF_INET, ip.c_str(), v4) == 1) return ClassifyV4(V4At(v4));
  std::array<unsigned char, 16> v6{};
  if (inet_pton(AF_INET6, ip.c_str(), v6.data()) == 1) return ClassifyV6(v6);
  return AddressKind::kInvalid;
}

const char* AddressKindName(AddressKind kind) {
  switch (kind) {
    case AddressKind::kOrdinary: return "ordinary";
    case AddressKind::kLoopback: return "loopback";
    case AddressKind::kLinkLocal: return "link-local";
    case AddressKind::kMulticast: return "multicast or broadcast";
    case AddressKind::kUnspecified: return "unspecified";
    case AddressKind::kMetadata: return "cloud metadata";
    case AddressKind::kInvalid: return "not an address";
  }
  return "unknown";
}

Result<std::string> ResolveHost(const std::string& host) {
  if (ClassifyAddress(host) != AddressKind::kInvalid) return host;
  if (host.empty() || host.size() > kMaxHostBytes) return Status::NotFound("not a host name");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
    return Status::NotFound("'" + host + "' does not resolve");
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(res, freeaddrinfo);
  const addrinfo* pick = nullptr;
  for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
    if (a->ai_family == AF_INET6 && pick == nullptr) pick = a;
  }
  char text[INET6_ADDRSTRLEN] = {};
  const void* addr = pick == nullptr                  ? nullptr
                     : pick->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(pick->ai_addr)->sin_addr)
                                                  : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(pick->ai_addr)->sin6_addr);
  if (addr == nullptr || inet_ntop(pick->ai_family, addr, text, sizeof text) == nullptr) {
    return Status::NotFound("'" + host + "' has no IP address");
  }
  return std::string(text);
}

AddressPolicy::AddressPolicy(const std::vector<std::string>& self_hosts, bool allow_private)
    : allow_private_(allow_private) {
  for (const std::string& host : self_hosts) {
    Result<std::string> ip = ResolveHost(host);
    if (ip.ok()) self_kinds_.insert(ClassifyAddress(*ip));
  }
}

Status AddressPolicy::Check(const std::string& ip) const {
  AddressKind kind = ClassifyAddress(ip);
  if (kind == AddressKind::kInvalid) return Status::InvalidArgument("'" + ip + "' is not a numeric address");
  if (kind == AddressKind::kOrdinary || allow_private_) return Status::Ok();
  if (kind != AddressKind::kMetadata && self_kinds_.count(kind) > 0) return Status::Ok();
  return Status::InvalidArgument(ip + " is a " + AddressKindName(kind) +
                                 " address, refused as a forward target (--allow-private-peers allows it)");
}

}  // namespace llamanet::swarm
