// A node's record in the DHT (PROTOCOL.md section 3): what this node publishes about itself
// and what it reads about its peers. The Python fields come first; the rest are ours, and a
// Python peer's record simply lacks them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"

namespace llamanet::swarm {

struct PeerRecord {
  std::string node_id;
  std::string ip;         // the advertised HTTP address (--public-host)
  int32_t port = 0;       // HTTP
  std::string model;
  double load = 0;        // busy fraction of slots, 0..1
  double tps = 0;         // recent generation tokens/s per request
  double uptime = 0;      // seconds
  double last_seen = 0;   // epoch seconds
  int32_t dht_port = 0;
  // Ours (absent from Python records: then slots is 0 and the rest unknown).
  int32_t slots = 0;
  int32_t free_slots = 0;
  int32_t queue = 0;
  int32_t n_ctx = 0;
  std::string model_sha256;
  std::string version;
  bool openai_compatible = true;
  // Not a field of the JSON: the key that signed the record in the DHT (64 hex digits), empty
  // for an unsigned (Python) record. A peer must prove it holds this key before it gets a request.
  std::string pubkey;
};

// The record as the JSON object the DHT carries (without pubkey/sig: the DHT signs).
std::string PeerRecordJson(const PeerRecord& r);
// Reads a record a peer published. kInvalidArgument names a missing or mistyped required
// field (node_id, ip, port, model); optional fields that are missing keep their defaults.
Result<PeerRecord> ParsePeerRecord(const std::string& json_text);

// Free slots as far as a router can tell: Python records carry only `load`, so a Python
// peer with load < 1 counts as having one.
int32_t FreeSlotsOf(const PeerRecord& r);

}  // namespace llamanet::swarm
