// Which addresses this node may forward a request to. A record in the DHT names any address its
// author likes; forwarding there would make the node an open proxy into its own network
// (services on loopback, the cloud's metadata endpoint). So loopback, link-local, multicast and
// broadcast, unspecified and metadata addresses are refused as targets unless this node itself
// advertises an address of that kind (a swarm on one machine keeps working on 127.0.0.1) or the
// operator allows private peers (--allow-private-peers). Metadata addresses are refused even
// then, unless private peers are allowed. Private LAN ranges (10/8, 192.168/16, fc00::/7) are
// ordinary: swarms live there.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace llamanet::swarm {

enum class AddressKind {
  kOrdinary,
  kLoopback,     // 127/8, ::1
  kLinkLocal,    // 169.254/16, fe80::/10
  kMulticast,    // 224/4, 255.255.255.255, ff00::/8
  kUnspecified,  // 0/8, ::
  kMetadata,     // 169.254.169.254, 100.100.100.200, fd00:ec2::254
  kInvalid,      // not a numeric address
};

// The kind of a numeric IPv4 or IPv6 address. IPv4 inside IPv6 (::ffff:a.b.c.d, 64:ff9b::/96)
// counts as its IPv4 address.
AddressKind ClassifyAddress(const std::string& ip);
const char* AddressKindName(AddressKind kind);

// `host` as one numeric address: itself when it is one, else its first IPv4 address, else its
// first IPv6 address. kNotFound when it does not resolve. May block on DNS for a name.
Result<std::string> ResolveHost(const std::string& host);

class AddressPolicy {
 public:
  // `self_hosts`: the addresses this node advertises (names are resolved here, once).
  AddressPolicy(const std::vector<std::string>& self_hosts, bool allow_private);

  // OK when a request may go to the numeric address `ip`; kInvalidArgument naming its kind.
  Status Check(const std::string& ip) const;

 private:
  std::set<AddressKind> self_kinds_;
  bool allow_private_;
};

}  // namespace llamanet::swarm
