// This node's directory of the swarm: the live records under `all_nodes`, read from the DHT in
// the background while someone uses it (/nodes, /v1/models, the web UI, a conversation's
// placement: Demand()), so an idle node reads nothing; routing uses candidate_view.h. While
// the set is small (under SwarmViewOptions::sample records) it is read whole every refresh and
// is exact; once it is not, it is sampled at a lower rate (one random page of a storing node
// per read) and the directory is the union of the recent samples, so its cost stops growing
// with the swarm and it says it is a sample.
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

struct SwarmViewOptions {
  std::chrono::milliseconds refresh{2500};           // between reads while the set is read whole
  std::chrono::milliseconds sampled_refresh{30000};  // between reads once it is sampled
  std::chrono::seconds max_age{30};                  // older records are left out
  // A set of this many records or more is sampled (a sample asks for this many); 0 reads the
  // whole set every refresh however large (the design before issue 12, the benchmark's
  // baseline).
  size_t sample = 32;
  size_t max_records = 1024;  // kept across samples, the stalest dropped first
  // Read only within this long of the last Demand(); 0 reads all the time (the old design).
  std::chrono::milliseconds demand_window{0};

  // A node's: read whole four times a heartbeat (250 ms at least), so that a node that left is
  // gone within one; sampled every three heartbeats, the life of a record; on demand, for three
  // heartbeats after the last use.
  static SwarmViewOptions ForHeartbeat(std::chrono::seconds heartbeat);
};

class SwarmView {
 public:
  // `self` gives this node's current record, which is always part of the view (fresh, not
  // as last published). Peers' records are read by the swarm's rules
  // (protocol/lookup_records.h): valid fields, one record per node_id, ids bound to the key
  // that signed them.
  SwarmView(dht::DhtNode& dht, std::function<protocol::NodeRecord()> self, SwarmViewOptions options,
            protocol::IdentityOptions identity, const dht::Clock& clock = dht::SystemClock::Instance());
  ~SwarmView();

  // Called with the live peers' records of every read (outside the view's lock). Set before
  // Start().
  void SetListener(std::function<void(const std::vector<protocol::NodeRecord>&)> listener);
  void Start();
  void Stop();
  // For a request that found no node for its model: refreshes now, unless a refresh ended
  // within `fresh_enough`, and waits up to `timeout` for one to end. After this node stood
  // still (frozen, suspended, starved), every record in its view may have aged out before the
  // next refresh. At most one lookup runs at a time, so a stream of such requests costs one
  // lookup per `fresh_enough` at most. Not for a view driven by Tick() (it would wait alone).
  void RefreshAndWait(std::chrono::milliseconds fresh_enough, std::chrono::milliseconds timeout);
  // Someone uses the directory: keep it read for `demand_window`, and when its last read is
  // older than the refresh interval, read it now and wait up to `wait` for the read to end.
  void Demand(std::chrono::milliseconds wait);
  // Starts a refresh when one is due (every refresh interval, while in demand) and
  // none is in flight; returns at once (it completes on the DHT's loop).
  void Tick();

  // Every live node known, this one first.
  std::vector<protocol::NodeRecord> Nodes() const;
  // Whether the last read was a sample (the swarm is too large to read whole): then Nodes()
  // and Models() are what the recent samples held, not necessarily everything.
  bool Sampled() const;
  // Every live node but this one (what a router chooses among).
  std::vector<protocol::NodeRecord> Peers() const;
  // Distinct model names served in the swarm.
  std::vector<std::string> Models() const;

 private:
  void Loop();
  void StartRefresh();
  // `sample`: the read was a sample (SampleAsync), not a whole read.
  void Apply(Result<dht::GetResult> records, bool sample);
  // The wait before the next read. REQUIRES: mu_ held.
  std::chrono::milliseconds Interval() const;
  // Whether reads are wanted now. REQUIRES: mu_ held.
  bool InDemand() const;

  dht::DhtNode& dht_;
  std::function<protocol::NodeRecord()> self_;
  const SwarmViewOptions options_;
  std::function<void(const std::vector<protocol::NodeRecord>&)> listener_;
  protocol::IdentityBook identities_;  // thread-safe
  const dht::Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<protocol::NodeRecord> peers_;  // guarded by mu_; without this node
  bool stopping_ = false;                    // guarded by mu_
  bool sampled_ = false;                     // guarded by mu_
  bool in_flight_ = false;                   // guarded by mu_
  std::optional<int64_t> last_start_ms_;     // guarded by mu_
  std::optional<int64_t> last_end_ms_;       // guarded by mu_
  int64_t demand_until_ms_ = 0;              // guarded by mu_
  uint64_t refreshes_ended_ = 0;             // guarded by mu_
  dht::LookupHandle lookup_;                 // guarded by mu_
  std::thread thread_;
};

double EpochNow();

}  // namespace llamanet::swarm
