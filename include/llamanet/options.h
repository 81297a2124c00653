// ClientOptions: how a llamanet::Client finds nodes, chooses one and fails over. Every default
// is documented here. The first five mirror the older Python client's constructor
// (bootstrap_nodes, model, min_tps, max_load, and its 30 s request timeout) with the same
// meaning.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace llamanet {

struct ClientOptions {
  // ---- discovery ------------------------------------------------------------------------
  // DHT addresses of nodes to join the swarm through, "host:port" (their --dht-port). Names
  // resolve at each attempt. Empty: the client finds no node.
  std::vector<std::string> bootstrap_nodes;
  // The model to ask for. Empty or "llamanet": any model. Otherwise only nodes that serve this
  // model are used (their DHT key `model:<name>` is read instead of `all_nodes`).
  std::string model;
  // How long a view of the swarm is used before it is read again from the DHT. A view older
  // than this is still used while a fresh one is fetched in the background, so that requests
  // do not wait on the DHT (the older client kept its view 5 s).
  std::chrono::milliseconds cache_ttl{5000};
  // How long a request waits for a view when it has none yet (joining the swarm and the first
  // lookup), and how long `Nodes(true)` waits for a fresh one.
  std::chrono::milliseconds discovery_timeout{5000};
  // The client's own UDP socket for DHT queries: 0 picks a free port. The client only
  // queries: nodes never put it into their routing tables and it answers no query. An empty
  // host means 127.0.0.1 when every bootstrap node is on loopback (127.x.y.z or localhost),
  // else 0.0.0.0.
  std::string dht_bind_host;
  uint16_t dht_port = 0;
  // Non-empty: a private swarm's secret (the nodes' swarm secret); datagrams carry its MAC.
  std::string swarm_secret;
  // Use only nodes whose records are signed (the nodes' --require-signed): every node id is
  // then bound to its key. Off by default, because older Python nodes do not sign; even then a
  // signed node's id is never taken over by another key or by an unsigned record.
  bool require_signed = false;

  // ---- selection ------------------------------------------------------------------------
  // Nodes that report a speed below min_tps (tokens/s) or a load above max_load (busy
  // fraction of slots, 0..1) are passed over. A node that has not measured its speed yet
  // (tps 0) passes the min_tps test, as with the older client. When no node passes, every
  // node of the model is used and the result says so (Completion::filters_relaxed).
  double min_tps = 0.0;
  double max_load = 1.0;
  // The best candidates (lowest load first, then the highest tps) among which two are drawn
  // at random and the less loaded one wins (power of two choices). The load compared is the
  // node's own report plus this client's requests in flight there, per slot.
  size_t candidate_pool = 4;

  // ---- requests and failover -------------------------------------------------------------
  std::chrono::milliseconds connect_timeout{3000};
  // The longest silence while waiting for a node's answer or its next piece of a stream (the
  // older client's 30 s request timeout).
  std::chrono::milliseconds read_timeout{30000};
  // Nodes tried per request, counting the first. A node is tried again only after every
  // other candidate; never the one that just failed.
  int max_attempts = 3;
  // Wait before retry n (n >= 1): a random time in [d/2, d] with d = backoff_initial * 2^(n-1),
  // at most backoff_max.
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{1000};
  // A node that failed is passed over by every request for this long, unless no other node
  // is left.
  std::chrono::milliseconds avoid_after_failure{30000};
  // Sent as `Authorization: Bearer <api_key>` when not empty (the nodes' --api-key), but only
  // to the nodes in trusted_nodes and, when swarm_secret is set, to every node found: anyone
  // can publish a node record in a public swarm's DHT, and would harvest a key sent to every
  // node. Other nodes get requests without it; one that needs it answers HTTP 401, which fails
  // that attempt with kUnavailable (another node is tried) and says how to send the key there.
  std::string api_key;
  // The nodes api_key goes to in any swarm: their HTTP addresses "host:port" (--port, as their
  // records say), as the user named them. A host name also stands for the addresses it
  // resolves to when the client is created. Naming a node here does not add it to the view.
  std::vector<std::string> trusted_nodes;

  // ---- the client's own threads ------------------------------------------------------------
  // Requests run on this many client-owned worker threads; more wait in a queue of at most
  // max_queued_requests, beyond which a call fails at once with Unavailable.
  size_t worker_threads = 8;
  size_t max_queued_requests = 1024;
  // Hard limits on what a node may send: one non-streamed answer, one SSE event.
  size_t max_response_bytes = 16 << 20;
  size_t max_event_bytes = 1 << 20;
};

}  // namespace llamanet
