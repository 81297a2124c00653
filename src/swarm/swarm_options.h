// What the swarm part of a node needs to know from its configuration (the node's config maps
// its flags onto this).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llamanet::swarm {

struct SwarmOptions {
  std::string host = "0.0.0.0";              // the HTTP bind address; the DHT binds the same
  int32_t dht_port = 8001;
  std::string public_host;                   // advertised address; empty: see AdvertisedHost
  std::vector<std::string> bootstrap_nodes;  // "host:port" of DHT peers
  int32_t heartbeat_interval = 10;           // seconds
  std::string swarm_secret;                  // non-empty: a private swarm
  bool require_signed = false;               // refuse unsigned (Python) node records
  bool allow_private_peers = false;          // forward to loopback, link-local... peers too
  std::string model_path;                    // hashed for the record's model_sha256
};

}  // namespace llamanet::swarm
