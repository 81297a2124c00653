#include "swarm/swarm_size.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "dht/node_id.h"
#include "dht/simulated_swarm.h"

namespace llamanet::swarm {
namespace {

// A routing table as Kademlia keeps one: the k nodes closest to its owner, and a few from each
// farther bucket.
std::vector<std::string> TableOf(const dht::NodeId& self, size_t swarm, std::mt19937_64& rng) {
  std::vector<dht::NodeId> everyone;
  for (size_t i = 0; i < swarm; ++i) everyone.push_back(dht::NodeId::Random(rng));
  std::sort(everyone.begin(), everyone.end(), [&](const dht::NodeId& a, const dht::NodeId& b) {
    return dht::NodeId::Closer(self, a, b);
  });
  std::vector<std::string> table;
  for (size_t i = 0; i < everyone.size(); ++i) {
    if (i < 20 || i % 17 == 0) table.push_back(everyone[i].ToHex());
  }
  return table;
}

TEST(SwarmSizeTest, ASmallTableIsTheWholeSwarm) {
  std::mt19937_64 rng(7);
  dht::NodeId self = dht::NodeId::Random(rng);
  SwarmSize s = EstimateSwarmSize(self.ToHex(), TableOf(self, 12, rng));
  EXPECT_EQ(s.nodes, 13u);
  EXPECT_FALSE(s.estimated);
}

TEST(SwarmSizeTest, ALargeSwarmIsEstimatedWithinAFactorOfTwo) {
  std::mt19937_64 rng(11);
  for (size_t swarm : {200, 1000, 5000, 20000}) {
    for (int trial = 0; trial < 5; ++trial) {
      dht::NodeId self = dht::NodeId::Random(rng);
      SwarmSize s = EstimateSwarmSize(self.ToHex(), TableOf(self, swarm, rng));
      EXPECT_TRUE(s.estimated);
      EXPECT_GT(s.nodes, swarm / 2) << swarm;
      EXPECT_LT(s.nodes, swarm * 2) << swarm;
    }
  }
}

TEST(SwarmSizeTest, IdsOfAnotherWidthOrNotHexAreSkipped) {
  std::mt19937_64 rng(3);
  dht::NodeId self = dht::NodeId::Random(rng);
  std::vector<std::string> table = {"zz", dht::NodeId::Random(rng, 64).ToHex(), self.ToHex(),
                                    dht::NodeId::Random(rng).ToHex()};
  EXPECT_EQ(EstimateSwarmSize(self.ToHex(), table).nodes, 2u);
}

// A swarm of 400 that started as a crowd (dht's second join lookup): each node's own estimate,
// from its table alone. Publishing to all_nodes is thinned by it (publisher.h).
TEST(SwarmSizeTest, NodesOfASwarmThatStartedAtOnceEstimateItsSize) {
  constexpr size_t kNodes = 400;
  dht::SimulatedSwarm swarm({.latency_ms = 20}, 31);
  dht::DhtOptions base;
  ASSERT_TRUE(swarm.Grow(kNodes, base, 100, 100).ok());
  swarm.Run(base.second_join_lookup_ms + 5000);
  std::vector<double> estimates;
  for (size_t i = 0; i < kNodes; ++i) {
    estimates.push_back(static_cast<double>(EstimateSwarmSize(swarm.node(i).Snapshot()).nodes));
  }
  std::sort(estimates.begin(), estimates.end());
  EXPECT_GT(estimates[kNodes / 2], kNodes * 0.85);
  EXPECT_LT(estimates[kNodes / 2], kNodes * 1.2);
  EXPECT_GT(estimates[kNodes / 10], kNodes * 0.6);  // without the second join lookup: 226 and 103
}

}  // namespace
}  // namespace llamanet::swarm
