// Facts about this host that a node advertises to its peers: the address they should dial,
// and the digest of the model file it serves.
#pragma once

#include <string>

#include "swarm/swarm_options.h"

namespace llamanet::swarm {

// Whether a bind address means every interface.
bool IsWildcard(const std::string& host);

// What peers should dial: --public-host; else a specific bind address; else the local address
// that routes toward the bootstrap nodes; else loopback (a swarm on one machine), with a
// warning in the log.
std::string AdvertisedHost(const SwarmOptions& options);

// SHA-256 of a file as 64 hex digits; empty when it cannot be read. Reads it whole: call it
// off the request path.
std::string Sha256OfFile(const std::string& path);

}  // namespace llamanet::swarm
