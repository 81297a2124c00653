// DhtOptions and the snapshot types of the DHT's public API (dht_node.h). Every default is
// documented here; every cap has a test.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dht/endpoint.h"
#include "dht/lookup.h"
#include "dht/rate_limiter.h"
#include "dht/routing_table.h"
#include "dht/storage.h"

namespace llamanet::dht {

struct DhtOptions {
  std::string bind_host = "0.0.0.0";
  uint16_t bind_port = 8001;  // 0: any free port (tests)
  // Hex id of 16..64 digits (see NodeIdFromName for ids made from names). Empty: a random
  // 40-digit id.
  std::string node_id;

  size_t k = 20;     // bucket size and replication factor
  size_t alpha = 3;  // queries in flight per lookup
  LookupLimits lookup;  // deadline, pages and records per responder and per lookup (lookup.h)

  int64_t rpc_timeout_ms = 1000;  // per attempt; a request fails after 1 + rpc_retries attempts
  int rpc_retries = 1;
  int64_t min_soft_timeout_ms = 50;  // floor of the adaptive soft timeout (rpc_manager.h)
  int max_failures = 2;              // failed requests in a row before a contact is dropped
  // Entries per IP and per subnet, with a higher cap for loopback and this node's own subnets
  // (routing_table.h). Create() adds the host's interface addresses to local_addresses; pass
  // the advertised address too when it is not one of them (NAT).
  RoutingLimits routing_limits;

  double record_ttl_s = 30;                   // 3 heartbeats of 10 s (PROTOCOL.md)
  double max_future_skew_s = 30;              // records dated further ahead are refused
  StorageLimits storage_limits;               // keys, records per key, bytes, per-source quota
  RateLimit rate_limit;                       // per source IP (rate_limiter.h explains the numbers)
  size_t max_datagram_bytes = 8192;           // PROTOCOL.md: 8 KiB, both ways
  // Reflection: a find_node or find_value reply to a requester that has not proved its address
  // with a token (address_token.h) holds at most max(unproven_reply_factor x the request's
  // bytes, min_unproven_reply_bytes) (ping and store replies are small anyway), so a spoofed
  // request cannot make this node flood its victim (a full 8 KiB reply was 56x a Python
  // client's request). A Python peer (it never has a token) gets the records and closest
  // contacts that fit, with "truncated": true. The floor lets it get at least one record of a
  // Python node (~200 bytes in a ~330-byte reply; 3x a Python node's ~110-byte request is not
  // enough); the worst case, a minimal 72-byte request, is 7x. A signed C++ node record
  // (~600 bytes) needs ~1024: raise it where Python clients must read C++ nodes' records, at
  // up to 14x.
  double unproven_reply_factor = 3;
  size_t min_unproven_reply_bytes = 512;
  int64_t token_rotation_ms = 5 * 60 * 1000;  // BEP 5's 5 minutes; a token lives 5-10 minutes
  size_t token_cache_size = 4096;             // responders whose token we remember

  int64_t maintenance_interval_ms = 1000;     // bucket refresh, liveness pings, bootstrap checks
  int64_t bucket_refresh_ms = 5 * 60 * 1000;  // a bucket with no lookup for this long is refreshed
  // The join lookup finds the nodes near our id that joined before us, and those that join
  // later find us with theirs; but the nodes of a crowd that joins at once (a swarm
  // restarting) miss each other, so our id is looked up once more this long after the join
  // (0: never). A table that lacks its nearest nodes makes the swarm look smaller than it is
  // (swarm/swarm_size.h) until the bucket refresh, minutes later.
  int64_t second_join_lookup_ms = 10 * 1000;
  int64_t contact_ping_ms = 2 * 60 * 1000;    // a contact silent for this long is pinged
  int64_t sweep_interval_ms = 5000;           // storage sweep
  int64_t bootstrap_retry_ms = 2000;          // first retry; doubles up to 30 s while none answers

  // Non-empty: a private swarm; every datagram carries an HMAC-SHA256 (wire_codec.h).
  std::string swarm_secret;
  bool require_signed = false;  // refuse unsigned records (storage and lookups)
  // A client: queries carry "ro": true (never routed to), no query is answered, nothing is
  // stored locally.
  bool read_only = false;
  std::vector<std::string> bootstrap;  // "host:port"; names resolve at each attempt

  uint64_t rng_seed = 0;  // 0: seeded from std::random_device (tests pin it)
};

struct DhtContact {
  std::string node_id;
  std::string ip;
  uint16_t port = 0;
  double last_seen = 0;  // epoch seconds
  int failures = 0;
};

struct DhtCounters {
  uint64_t datagrams_in = 0;
  uint64_t datagrams_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t send_errors = 0;
  uint64_t requests_in = 0;
  uint64_t replies_in = 0;
  uint64_t rpc_timeouts = 0;
  uint64_t rpc_resends = 0;
  uint64_t stores_accepted = 0;
  uint64_t stores_refused = 0;
  uint64_t contacts_refused = 0;  // over a per-address cap of the routing table
  uint64_t bad_replies = 0;       // replies to our requests that did not decode
  uint64_t lookup_drops = 0;      // responders dropped from a lookup for breaking the protocol
  uint64_t replies_cut = 0;       // replies cut to the unproven size
  uint64_t token_retries = 0;     // our requests asked again with a fresh token
  std::map<std::string, uint64_t> drops;  // by DropReasonName; only reasons seen
};

struct DhtSnapshot {
  std::string node_id;
  Endpoint endpoint;
  bool running = false;
  bool joined = false;  // a bootstrap node answered (or none was needed)
  std::vector<DhtContact> contacts;
  std::vector<std::string> storage_keys;
  size_t stored_records = 0;
  std::vector<std::string> bootstrap;
  DhtCounters counters;
};

}  // namespace llamanet::dht
