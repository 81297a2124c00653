// SimulatedSwarm: many DhtNodes on one MemoryNetwork, for tests and the simulation benchmark.
// Node i lives at 10.a.b.1:8001 (i = a*256 + b, up to 65536 nodes): each node in a /24 of its
// own, as distinct hosts on the Internet are for the routing table's per-subnet cap. Killing a node makes it silent at
// once, without warning (its object stays, frozen). With heartbeats on, every live node
// republishes its node record (NodeRecord) under `node:<id>` every interval, as LlamaNet nodes
// do. Single-threaded: the caller drives virtual time with Run / RunUntil.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dht/dht_node.h"
#include "dht/memory_network.h"

namespace llamanet::dht {

// Lookup results of an experiment; times are virtual milliseconds.
struct LookupSummary {
  size_t lookups = 0;
  size_t found = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double mean_hops = 0;
  double mean_messages = 0;
  double success() const { return lookups == 0 ? 0 : static_cast<double>(found) / static_cast<double>(lookups); }
};

class SimulatedSwarm {
 public:
  SimulatedSwarm(LinkModel link, uint64_t seed);
  ~SimulatedSwarm();

  // Adds and starts a node; `options.bootstrap` may name other nodes' endpoints. Internal on a
  // bad node_id in `options`.
  Result<size_t> AddNode(DhtOptions options);
  // Adds `count` nodes (ids from the swarm's seed) that bootstrap through node 0, `batch` at a
  // time with `gap_ms` of virtual time between batches; node 0 is added first when missing.
  Status Grow(size_t count, const DhtOptions& base, size_t batch, int64_t gap_ms);
  static Endpoint EndpointOf(size_t index);

  DhtNode& node(size_t index) { return *nodes_[index]->node; }
  size_t size() const { return nodes_.size(); }
  bool alive(size_t index) const { return nodes_[index]->alive; }
  void Kill(size_t index);

  // The node's API, with the network told that the node has new timers.
  void Publish(size_t index, std::string key, Record record, std::function<void(Result<size_t>)> done);
  void Get(size_t index, std::string key, std::function<void(Result<GetResult>)> done);

  // Node i's record now: {"node_id", "ip", "port", "dht_port", "model", "load", "last_seen"}.
  Record NodeRecord(size_t index) const;
  static std::string NodeKey(const DhtNode& node) { return "node:" + node.id().ToHex(); }

  // 0 turns heartbeats off. Node i's first heartbeat comes at a phase spread over the interval.
  void SetHeartbeat(int64_t interval_ms);
  // Publishes the node record of every live node now; runs until all are done; returns how
  // many succeeded.
  size_t PublishAll();
  // Runs virtual time forward, heartbeats included.
  void Run(int64_t duration_ms);
  // Runs until `done()` or `limit_ms` passed; returns done().
  bool RunUntil(const std::function<bool()>& done, int64_t limit_ms);

  // Lookups of node:<target id> from `from`, one every `spacing_ms`; a lookup is found when it
  // returns the target's record.
  LookupSummary MeasureLookups(const std::vector<std::pair<size_t, size_t>>& from_target, int64_t spacing_ms);

  MemoryNetwork& network() { return network_; }

 private:
  struct SimNode final : MemoryNetwork::Host {
    std::unique_ptr<Transport> transport;
    std::unique_ptr<DhtNode> node;
    bool alive = true;
    int64_t next_heartbeat_ms = 0;
    void OnDatagram(const Endpoint& from, std::string_view d) override { node->HandleDatagram(from, d); }
    void OnWakeup() override { node->RunDueTimers(); }
    int64_t NextWakeupMs() const override { return node->NextTimerMs(); }
  };
  void Heartbeats();

  MemoryNetwork network_;
  uint64_t seed_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  int64_t heartbeat_ms_ = 0;
};

}  // namespace llamanet::dht
