// A node's record in the DHT (PROTOCOL.md section 3): what a node publishes about itself and
// what nodes and clients read about their peers. The one parser and writer of records: node
// and client apply the same rules, so a record one of them uses the other uses too.
//
// The rule for every field: absent or JSON null means "not given" and takes the default below
// (a Python peer's record lacks every field from `slots` on); any other value must have the
// field's type and range, or the whole record is invalid. A mistyped optional field is never
// read as its default: `"load":"high"` would otherwise rank a peer the least loaded.
// Unknown fields are ignored (Python clients ignore ours).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace llamanet::protocol {

struct NodeRecord {
  // Python fields. node_id, ip, port, model and last_seen are required.
  std::string node_id;  // printable ASCII without spaces, 1..64 bytes
  std::string ip;       // the advertised HTTP host: an IPv4/IPv6 literal or a host name
  int32_t port = 0;     // HTTP, 1..65535
  std::string model;
  double load = 0;       // busy fraction of slots, 0..1
  double tps = 0;        // recent generation tokens/s per request, >= 0 (0: not measured)
  double uptime = 0;     // seconds, >= 0
  double last_seen = 0;  // epoch seconds, >= 0
  int32_t dht_port = 0;  // 0: unknown
  // Ours (absent from Python records: then slots is 0 and the rest unknown).
  int32_t slots = 0;
  int32_t free_slots = 0;  // 0..slots
  int32_t queue = 0;
  int32_t n_ctx = 0;
  std::string model_sha256;  // empty or 64 lowercase hex digits
  std::string version;
  bool openai_compatible = true;
  bool generation = true;   // false: an embeddings-only node (--embeddings-only)
  bool embeddings = false;  // serves POST /v1/embeddings (absent from older records: not)
  // The DHT's signature fields: the signer's Ed25519 key as 64 hex digits, empty when the record
  // is unsigned. Read here, never written: the DHT signs (dht/record_signing.h), and whether the
  // signature holds is identity.h's business.
  std::string pubkey;

  bool operator==(const NodeRecord&) const = default;
};

// Bounds on what a peer may put into a record. The defaults are the protocol's.
struct NodeRecordLimits {
  size_t max_record_bytes = 8192;  // one DHT datagram
  size_t max_node_id_bytes = 64;   // PROTOCOL.md: any printable string up to 64 chars
  size_t max_host_bytes = 253;     // the longest DNS name
  size_t max_model_bytes = 256;
  size_t max_version_bytes = 64;
  int32_t max_slots = 4096;
  int32_t max_queue = 1 << 20;
  int32_t max_n_ctx = 1 << 24;
};

// Reads a record a peer published. InvalidArgument names the first bad field: a missing
// required field, a field of the wrong type, a number out of range (NaN and infinities
// included), a string over its limit, a node_id with a space or control character, an `ip`
// that is neither an address literal nor a host name, free_slots above slots; TooLarge when
// the text is over max_record_bytes.
Result<NodeRecord> ParseNodeRecord(std::string_view json_text, const NodeRecordLimits& limits = {});

// The record as the JSON object the DHT carries, without pubkey/sig (the DHT signs).
// ParseNodeRecord(NodeRecordJson(r)) == r for a valid r with an empty pubkey.
std::string NodeRecordJson(const NodeRecord& r);

// Free slots as far as a router can tell: Python records carry only `load`, so a Python peer
// with load < 1 counts as having one.
int32_t FreeSlotsOf(const NodeRecord& r);

// An IPv4 literal, an IPv6 literal (no brackets, no zone), or a host name of letters, digits
// and hyphens in dot-separated labels of 1..63 whose last label starts with a letter (so that
// no name reads as a numeric address form such as "127.1" or "0x7f.1"); at most max_bytes.
bool IsValidHost(std::string_view host, size_t max_bytes);

}  // namespace llamanet::protocol
