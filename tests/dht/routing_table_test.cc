#include "dht/routing_table.h"

#include <gtest/gtest.h>

namespace llamanet::dht {
namespace {

NodeId Id(const std::string& hex) { return *NodeId::FromHex(hex); }
// Ids at distance bit 63 from the all-zero 16-digit self: a single bucket.
NodeId FarId(int i) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "8%015x", i);
  return Id(buf);
}
Endpoint Ep(int i) { return Endpoint{"10.0.0." + std::to_string(i % 250), static_cast<uint16_t>(1000 + i)}; }

class RoutingTableTest : public ::testing::Test {
 protected:
  NodeId self_ = Id("0000000000000000");
  RoutingTable table_{self_, 4, 2};
};

TEST_F(RoutingTableTest, IgnoresSelfAndAddsOthersAtTheirSourceAddress) {
  EXPECT_FALSE(table_.Heard(self_, Ep(1), 0).added);
  EXPECT_TRUE(table_.Heard(FarId(1), Ep(1), 0).added);
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.Find(FarId(1))->endpoint, Ep(1));
}

TEST_F(RoutingTableTest, LiveContactKeepsItsAddress) {
  table_.Heard(FarId(1), Ep(1), 0);
  table_.Heard(FarId(1), Ep(2), 10);  // a spoofed id from elsewhere
  EXPECT_EQ(table_.Find(FarId(1))->endpoint, Ep(1));
  table_.Failed(FarId(1));  // once failing, a new address is taken
  table_.Heard(FarId(1), Ep(2), 20);
  EXPECT_EQ(table_.Find(FarId(1))->endpoint, Ep(2));
  EXPECT_EQ(table_.Find(FarId(1))->failures, 0);
}

TEST_F(RoutingTableTest, FullBucketAsksToPingItsOldestThenEvictsItOnFailure) {
  for (int i = 0; i < 4; ++i) table_.Heard(FarId(i), Ep(i), i);
  table_.Heard(FarId(0), Ep(0), 10);  // 0 is now the freshest; 1 the oldest
  auto r = table_.Heard(FarId(9), Ep(9), 11);
  EXPECT_FALSE(r.added);
  ASSERT_TRUE(r.ping);
  EXPECT_EQ(r.ping->id, FarId(1));
  // A second newcomer does not ask for a second ping of the same contact.
  EXPECT_FALSE(table_.Heard(FarId(8), Ep(8), 12).ping);
  EXPECT_EQ(table_.size(), 4u);
  // No answer: the oldest goes and the freshest replacement takes its place.
  EXPECT_TRUE(table_.Failed(FarId(1)));
  EXPECT_FALSE(table_.Find(FarId(1)));
  EXPECT_TRUE(table_.Find(FarId(8)));
  EXPECT_FALSE(table_.Find(FarId(9)));
  EXPECT_EQ(table_.size(), 4u);
}

TEST_F(RoutingTableTest, OldestThatAnswersStays) {
  for (int i = 0; i < 4; ++i) table_.Heard(FarId(i), Ep(i), i);
  auto r = table_.Heard(FarId(9), Ep(9), 10);
  ASSERT_TRUE(r.ping);
  table_.Heard(r.ping->id, r.ping->endpoint, 11);  // the ping reply
  EXPECT_TRUE(table_.Find(FarId(0)));
  EXPECT_FALSE(table_.Find(FarId(9)));
  EXPECT_FALSE(table_.Find(FarId(0))->pinging);
}

TEST_F(RoutingTableTest, RemovesContactsThatStopAnswering) {
  table_.Heard(FarId(1), Ep(1), 0);
  EXPECT_FALSE(table_.Failed(FarId(1)));  // 1 of max_failures=2
  EXPECT_EQ(table_.Find(FarId(1))->failures, 1);
  EXPECT_TRUE(table_.Failed(FarId(1)));
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(table_.bucket_count(), 0u);
}

TEST_F(RoutingTableTest, ClosestSortsByXorAcrossWidths) {
  table_.Heard(Id("0000000000000007"), Ep(7), 0);
  table_.Heard(Id("0000000000000001"), Ep(1), 0);
  table_.Heard(Id(std::string(38, '0') + "03"), Ep(3), 0);  // 40 digits, value 3
  table_.Heard(Id("f000000000000000"), Ep(15), 0);
  auto closest = table_.Closest(Id("0000000000000002"), 3);
  ASSERT_EQ(closest.size(), 3u);
  EXPECT_EQ(closest[0].endpoint, Ep(3));  // 2^3 = 1
  EXPECT_EQ(closest[1].endpoint, Ep(1));  // 2^1 = 3
  EXPECT_EQ(closest[2].endpoint, Ep(7));  // 2^7 = 5
}

TEST_F(RoutingTableTest, RefreshesOnlyStaleNonEmptyBuckets) {
  std::mt19937_64 rng(1);
  table_.Heard(FarId(1), Ep(1), 0);
  table_.Heard(Id("0000000000000001"), Ep(2), 0);
  EXPECT_TRUE(table_.RefreshTargets(999, 1000, rng).empty());
  table_.Touched(FarId(5), 500);
  auto targets = table_.RefreshTargets(1000, 1000, rng);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(self_.DistanceBit(targets[0]), 0);
  EXPECT_EQ(table_.RefreshTargets(1500, 1000, rng).size(), 1u);  // bit 63, touched at 500
}

TEST_F(RoutingTableTest, TakeStalestMarksItPinging) {
  table_.Heard(FarId(1), Ep(1), 100);
  table_.Heard(FarId(2), Ep(2), 50);
  auto c = table_.TakeStalest(200);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->id, FarId(2));
  EXPECT_EQ(table_.TakeStalest(200)->id, FarId(1));
  EXPECT_FALSE(table_.TakeStalest(200));
}

}  // namespace
}  // namespace llamanet::dht
