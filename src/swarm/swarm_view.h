// This node's view of the swarm: the live records under `all_nodes`, fetched from the DHT in
// the background every refresh interval, so that a request never waits on a lookup.
// Thread-safe. Two ways to run one: Start() (a thread calls Tick() every refresh interval), or
// a driver that calls Tick() itself on a driven DHT node and its clock (the swarm benchmark).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "dht/dht_node.h"
#include "protocol/identity.h"
#include "protocol/node_record.h"

namespace llamanet::swarm {

class SwarmView {
 public:
  // `self` gives this node's current record, which is always part of the view (fresh, not
  // as last published). Records older than `max_age` are left out. Peers' records are read by
  // the swarm's rules (protocol/lookup_records.h): valid fields, one record per node_id, ids
  // bound to the key that signed them.
  SwarmView(dht::DhtNode& dht, std::function<protocol::NodeRecord()> self, std::chrono::milliseconds refresh,
            std::chrono::seconds max_age, protocol::IdentityOptions identity,
            const dht::Clock& clock = dht::SystemClock::Instance());
  ~SwarmView();

  void Start();
  void Stop();
  // Asks for a refresh now (e.g. after a peer failed); returns at once.
  void RefreshSoon();
  // For a request that found no node for its model: refreshes now, unless a refresh ended
  // within `fresh_enough`, and waits up to `timeout` for one to end. After this node stood
  // still (frozen, suspended, starved), every record in its view may have aged out before the
  // next refresh. At most one lookup runs at a time, so a stream of such requests costs one
  // lookup per `fresh_enough` at most. Not for a view driven by Tick() (it would wait alone).
  void RefreshAndWait(std::chrono::milliseconds fresh_enough, std::chrono::milliseconds timeout);
  // Starts a refresh when one is due (every refresh interval, or soon after RefreshSoon) and
  // none is in flight; returns at once (it completes on the DHT's loop).
  void Tick();

  // Every live node, this one first.
  std::vector<protocol::NodeRecord> Nodes() const;
  // Every live node but this one (what a router chooses among).
  std::vector<protocol::NodeRecord> Peers() const;
  // Distinct model names served in the swarm.
  std::vector<std::string> Models() const;

 private:
  void Loop();
  void StartRefresh();
  void Apply(Result<dht::GetResult> records);

  dht::DhtNode& dht_;
  std::function<protocol::NodeRecord()> self_;
  const std::chrono::milliseconds refresh_;
  const std::chrono::seconds max_age_;
  protocol::IdentityBook identities_;  // thread-safe
  const dht::Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<protocol::NodeRecord> peers_;  // guarded by mu_; without this node
  bool stopping_ = false;                    // guarded by mu_
  bool refresh_now_ = false;                 // guarded by mu_
  bool in_flight_ = false;                   // guarded by mu_
  std::optional<int64_t> last_start_ms_;     // guarded by mu_
  std::optional<int64_t> last_end_ms_;       // guarded by mu_
  uint64_t refreshes_ended_ = 0;             // guarded by mu_
  dht::LookupHandle lookup_;                 // guarded by mu_
  std::thread thread_;
};

double EpochNow();

}  // namespace llamanet::swarm
