// Discovery: the client's view of the swarm, read from the DHT as a read-only member (its
// queries carry "ro": true, so that no node routes to it; it answers nothing and stores
// nothing). The view is the node records under `all_nodes`, or `model:<name>` when the
// client asks for one model, read by the swarm protocol's rules (protocol/lookup_records.h):
// one record per node_id, bound to its key, each valid. It is kept for cache_ttl; an older view is still served while a
// background thread fetches a fresh one, so only the first request waits on the DHT.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dht/dht_node.h"
#include "llamanet/status.h"
#include "llamanet/types.h"
#include "protocol/identity.h"

namespace llamanet::client {

// Where the failover loop gets its nodes from (failover.h); a test gives it a fake.
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  // The live nodes, least loaded first. `refresh`: a view fetched after this call began.
  virtual Result<std::vector<NodeInfo>> Nodes(bool refresh) = 0;
};

struct DiscoveryOptions {
  std::vector<std::string> bootstrap;  // "host:port" DHT addresses
  std::string model;                   // empty or "llamanet": all_nodes
  std::chrono::milliseconds cache_ttl{5000};
  std::chrono::milliseconds timeout{5000};  // joining plus one lookup
  std::string bind_host;  // empty: see ClientOptions::dht_bind_host
  uint16_t bind_port = 0;
  std::string swarm_secret;
  protocol::IdentityOptions identity;  // its require_signed applies to the DHT lookups too
};

class Discovery final : public NodeSource {
 public:
  // Binds the DHT socket and starts joining. IoError when the socket cannot be bound,
  // InvalidArgument for a bootstrap entry that is not host:port.
  static Result<std::unique_ptr<Discovery>> Start(DiscoveryOptions options);
  ~Discovery() override;  // Stop()s

  // NotFound without bootstrap nodes; Unavailable when no bootstrap node answered within the
  // timeout; DeadlineExceeded when the lookup took longer; Cancelled after Stop().
  Result<std::vector<NodeInfo>> Nodes(bool refresh) override;
  // The live record of one node (key `node:<id>`), looked up now. NotFound when none.
  Result<NodeInfo> Find(const std::string& node_id);
  // Ends lookups in progress and joins the background thread. Idempotent; REQUIRES: not
  // called from two threads at once.
  void Stop();

 private:
  using Clock = std::chrono::steady_clock;
  Discovery(DiscoveryOptions options, std::unique_ptr<dht::DhtNode> dht);

  void RefreshLoop();
  // Waits until a bootstrap node has answered.
  Status WaitJoined(Clock::time_point deadline);
  // Joins if needed, then reads `key`: its valid node records, unsorted and unfiltered.
  Result<std::vector<NodeInfo>> Fetch(const std::string& key, Clock::time_point deadline);

  const DiscoveryOptions options_;
  const std::string key_;
  std::unique_ptr<dht::DhtNode> dht_;  // constant after construction
  protocol::IdentityBook identities_;   // which key owns which node_id, across lookups
  std::thread refresher_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                        // guarded by mu_
  bool refresh_wanted_ = false;                  // guarded by mu_
  uint64_t refreshes_done_ = 0;                  // guarded by mu_
  std::optional<std::vector<NodeInfo>> view_;    // guarded by mu_; the last good view
  Clock::time_point fetched_at_;                 // guarded by mu_
  Status last_status_;                           // guarded by mu_; of the last refresh
};

}  // namespace llamanet::client
