#include "swarm/swarm_size.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "dht/node_id.h"

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

}  // namespace
}  // namespace llamanet::swarm
