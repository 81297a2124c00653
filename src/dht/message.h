// Typed DHT messages: what a datagram of PROTOCOL.md section 3 means once the wire codec has
// checked it. Value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dht/endpoint.h"
#include "dht/node_id.h"
#include "dht/record.h"

namespace llamanet::dht {

enum class RequestType { kPing, kStore, kFindNode, kFindValue };
const char* RequestTypeName(RequestType type);  // the wire name: "ping", "store", ...

// A contact as carried in `contacts`: {"node_id", "ip", "port"}.
struct ContactInfo {
  NodeId id;
  Endpoint endpoint;
};

// A `store` value, or a find_value `value`: one record object or an array of them.
struct RecordValue {
  std::vector<Record> records;
  bool is_array = false;
};

struct Request {
  RequestType type = RequestType::kPing;
  std::string txid;        // "id"
  NodeId sender;           // "sender_id"
  bool read_only = false;  // "ro": true from a read-only client (BEP 43): never routed to
  std::string key;         // store, find_value
  RecordValue value;       // store
  NodeId target;           // find_node "target_id"
  uint32_t offset = 0;     // find_value "offset": first record of the page asked for
  // find_value "value_only": true: the asker wants this node's records, not the way on (a
  // direct load poll, swarm/candidate_view.h): a value reply then carries no contacts.
  bool value_only = false;
  // find_value "known": with value_only, the ContentDigest (record.h) of the copy the asker
  // holds: a single record that still says the same is answered {"unchanged": true}, not sent.
  std::string known;
  // find_value "limit": at most this many records in the reply (0: as many as fit). A sample
  // asks for the few it needs instead of a whole page.
  uint32_t limit = 0;
  // find_value "near": the contacts of the reply are the closest to this id, not to sha1(key).
  // A lookup headed for a random point of a key's region (dht_node.h, Spread) sends it.
  std::optional<NodeId> near;
  // "token": the address token this requester got from the responder (address_token.h), or ""
  // to ask for one. Absent (Python peers): the reply carries none.
  std::optional<std::string> token;
};

// A reply: {"type":"response", "id", "sender_id", "data": {...}}. Every `data` field is
// optional on the wire; the request's type says which ones matter.
struct Response {
  std::string txid;
  NodeId sender;
  bool pong = false;                  // data.pong
  std::optional<NodeId> data_sender;  // data.sender_id (ping replies)
  std::optional<bool> stored;         // data.stored
  std::string error;                  // data.error: why a store was refused (our extension)
  std::optional<std::vector<ContactInfo>> contacts;  // data.contacts
  std::optional<RecordValue> value;                  // data.value
  bool truncated = false;                            // data.truncated
  std::optional<uint32_t> total;                     // data.total: records in the whole set
  uint32_t offset = 0;                               // data.offset: index of value[0] in the set
  std::string token;                                 // data.token: for the requester's next requests
  bool unproven = false;  // data.unproven: cut to the unproven size; ask again with the token
  bool unchanged = false;  // data.unchanged: the record still matches the asker's "known"
};

using Message = std::variant<Request, Response>;

}  // namespace llamanet::dht
