// A local swarm: 20 nodes on one IP (127.0.0.1, ports 9000..9019) on the in-memory network,
// with the traffic of LlamaNet nodes at the default heartbeat: every 10 s each node publishes
// its record under node:<id>, model:<name> and all_nodes, and every 2.5 s its swarm view looks
// up all_nodes. With the default limits (rate per IP, routing entries per IP and /24, storage
// quota per IP, reply caps) nothing is dropped or refused and every view is complete. It
// prints the busiest node's peak rate from the one IP, the number the rate limit is sized by
// (rate_limiter.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>

#include "dht/dht_node.h"
#include "dht/memory_network.h"

namespace llamanet::dht {
namespace {

constexpr size_t kNodes = 20;
constexpr int64_t kHeartbeatMs = 10'000;
constexpr int64_t kViewMs = 2'500;
constexpr int64_t kRunMs = 15'000;  // every node publishes once or twice and looks 6 times

struct LocalNode final : MemoryNetwork::Host {
  std::unique_ptr<Transport> transport;
  std::unique_ptr<DhtNode> node;
  size_t view_size = 0;
  void OnDatagram(const Endpoint& from, std::string_view d) override { node->HandleDatagram(from, d); }
  void OnWakeup() override { node->RunDueTimers(); }
  int64_t NextWakeupMs() const override { return node->NextTimerMs(); }
};

Endpoint At(size_t i) { return Endpoint{"127.0.0.1", static_cast<uint16_t>(9000 + i)}; }

TEST(LocalSwarmTest, TwentyNodesOnOneIpKeepWorkingUnderTheDefaultLimits) {
  MemoryNetwork net(LinkModel{.latency_ms = 1}, 3);
  std::vector<std::unique_ptr<LocalNode>> nodes;
  for (size_t i = 0; i < kNodes; ++i) {
    auto n = std::make_unique<LocalNode>();
    n->transport = net.Attach(At(i), n.get());
    DhtOptions o;  // the defaults under test
    o.rng_seed = 1 + i;
    if (i > 0) o.bootstrap = {At(0).ToString()};
    o.record_ttl_s = 3.0 * kHeartbeatMs / 1000;
    auto created = DhtNode::CreateDriven(o, *n->transport, net.clock());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    n->node = std::move(created).value();
    ASSERT_TRUE(n->node->Start().ok());
    nodes.push_back(std::move(n));
    net.Reschedule(At(i));
  }
  net.RunFor(2000);

  auto record = [&](size_t i) {
    const std::string id = nodes[i]->node->id().ToHex().substr(0, 16);
    return *ParseRecord(R"({"node_id":")" + id + R"(","ip":"127.0.0.1","port":)" + std::to_string(8000 + i) +
                        R"(,"model":"tiny","load":0,"last_seen":)" + std::to_string(net.clock().WallSeconds()) +
                        R"(,"pad":")" + std::string(350, 'p') + "\"}");  // ~450 bytes, as signed records are
  };
  // Heartbeats and views at phases spread over their intervals, for kRunMs of virtual time;
  // the busiest node's datagrams per second are sampled every 100 ms.
  std::vector<int64_t> next_beat(kNodes), next_view(kNodes);
  for (size_t i = 0; i < kNodes; ++i) {
    next_beat[i] = net.clock().NowMs() + kHeartbeatMs * static_cast<int64_t>(i) / kNodes;
    next_view[i] = net.clock().NowMs() + kViewMs * static_cast<int64_t>(i) / kNodes;
  }
  std::vector<std::vector<uint64_t>> in_per_tick(kNodes);
  const int64_t end = net.clock().NowMs() + kRunMs;
  while (net.clock().NowMs() < end) {
    const int64_t now = net.clock().NowMs();
    for (size_t i = 0; i < kNodes; ++i) {
      if (now >= next_beat[i]) {
        next_beat[i] += kHeartbeatMs;
        const std::string id = nodes[i]->node->id().ToHex().substr(0, 16);
        for (const std::string& key : {"node:" + id, std::string("model:tiny"), std::string("all_nodes")}) {
          nodes[i]->node->PublishAsync(key, record(i), [](Result<size_t>) {}).Detach();
        }
      }
      if (now >= next_view[i]) {
        next_view[i] += kViewMs;
        LocalNode* self = nodes[i].get();
        nodes[i]->node->GetAsync("all_nodes", [self](Result<GetResult> r) {
          if (r.ok()) self->view_size = r->records.size();
        }).Detach();
      }
      net.Reschedule(At(i));
      in_per_tick[i].push_back(nodes[i]->node->Snapshot().counters.datagrams_in);
    }
    net.RunFor(100);
  }

  size_t busiest = 0;
  uint64_t peak = 0;
  for (size_t i = 0; i < kNodes; ++i) {
    const auto& t = in_per_tick[i];
    for (size_t s = 10; s < t.size(); ++s) {
      if (t[s] - t[s - 10] > peak) {
        peak = t[s] - t[s - 10];
        busiest = i;
      }
    }
  }
  const uint64_t total = in_per_tick[busiest].back() - in_per_tick[busiest].front();
  const double mean = static_cast<double>(total) / (kRunMs / 1000.0);
  std::printf("local swarm of %zu on 127.0.0.1: busiest node %zu, peak %llu datagrams/s, mean %.0f/s from the one IP\n",
              kNodes, busiest, static_cast<unsigned long long>(peak), mean);

  const RateLimit limit;
  EXPECT_LT(static_cast<double>(peak), limit.per_second);
  for (size_t i = 0; i < kNodes; ++i) {
    DhtSnapshot s = nodes[i]->node->Snapshot();
    EXPECT_EQ(s.counters.drops.count("rate_limited"), 0u) << i;
    EXPECT_EQ(s.counters.contacts_refused, 0u) << i;
    EXPECT_EQ(s.counters.stores_refused, 0u) << i;
    EXPECT_EQ(s.counters.lookup_drops, 0u) << i;
    EXPECT_EQ(nodes[i]->view_size, kNodes) << i;
    EXPECT_EQ(s.contacts.size(), kNodes - 1) << i;
  }
  for (auto& n : nodes) n->node->Stop();
}

}  // namespace
}  // namespace llamanet::dht
