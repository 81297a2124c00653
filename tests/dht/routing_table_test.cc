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
  // A newcomer while the oldest spoke within the last minute: no ping, it waits as a replacement.
  EXPECT_FALSE(table_.Heard(FarId(7), Ep(7), 59'000).ping);
  auto r = table_.Heard(FarId(9), Ep(9), 61'000);
  EXPECT_FALSE(r.added);
  ASSERT_TRUE(r.ping);
  EXPECT_EQ(r.ping->id, FarId(1));
  // A second newcomer does not ask for a second ping of the same contact.
  EXPECT_FALSE(table_.Heard(FarId(8), Ep(8), 61'001).ping);
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
  auto r = table_.Heard(FarId(9), Ep(9), 60'000);
  ASSERT_TRUE(r.ping);
  table_.Heard(r.ping->id, r.ping->endpoint, 60'001);  // the ping reply
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

TEST(SubnetTest, GroupsAddressesByTheirSlash24OrSlash64) {
  EXPECT_EQ(SubnetOf("10.1.2.3"), "10.1.2.0/24");
  EXPECT_EQ(SubnetOf("::ffff:10.1.2.99"), "10.1.2.0/24");
  EXPECT_EQ(SubnetOf("2001:db8:1:2:3:4:5:6"), "2001:0db8:0001:0002::/64");
  EXPECT_EQ(SubnetOf("2001:db8:1:2::9"), SubnetOf("2001:db8:1:2:ffff::1"));
  EXPECT_EQ(SubnetOf("not-an-ip"), "");
  EXPECT_TRUE(IsLoopback("127.0.0.1"));
  EXPECT_TRUE(IsLoopback("127.8.9.10"));
  EXPECT_TRUE(IsLoopback("::1"));
  EXPECT_TRUE(IsLoopback("::ffff:127.0.0.1"));
  EXPECT_FALSE(IsLoopback("128.0.0.1"));
  EXPECT_FALSE(IsLoopback("::2"));
}

class RoutingLimitsTest : public ::testing::Test {
 protected:
  // Large buckets so that only the per-address caps limit the table.
  RoutingTable Make(RoutingLimits limits) { return RoutingTable(Id("0000000000000000"), 100, 2, std::move(limits)); }
  static Endpoint At(const std::string& ip, int port) { return Endpoint{ip, static_cast<uint16_t>(port)}; }
};

TEST_F(RoutingLimitsTest, AtMostAFewEntriesPerIp) {
  RoutingTable t = Make({.max_per_ip = 2, .max_per_subnet = 8});
  EXPECT_TRUE(t.Heard(FarId(1), At("203.0.113.5", 1), 0).added);
  EXPECT_TRUE(t.Heard(FarId(2), At("203.0.113.5", 2), 0).added);
  auto third = t.Heard(FarId(3), At("203.0.113.5", 3), 0);
  EXPECT_FALSE(third.added);
  EXPECT_TRUE(third.refused);
  EXPECT_FALSE(t.Find(FarId(3)));
  EXPECT_EQ(t.CountAt("203.0.113.5"), 2u);
  // A known contact is still refreshed, and a removed one frees its slot.
  EXPECT_FALSE(t.Heard(FarId(1), At("203.0.113.5", 1), 5).refused);
  t.Failed(FarId(1));
  t.Failed(FarId(1));
  EXPECT_EQ(t.CountAt("203.0.113.5"), 1u);
  EXPECT_TRUE(t.Heard(FarId(3), At("203.0.113.5", 3), 10).added);
}

TEST_F(RoutingLimitsTest, AtMostAFewEntriesPerSubnet) {
  RoutingTable t = Make({.max_per_ip = 2, .max_per_subnet = 3});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(t.Heard(FarId(i), At("198.51.100." + std::to_string(i + 1), 1), 0).added);
  EXPECT_TRUE(t.Heard(FarId(9), At("198.51.100.77", 1), 0).refused);
  EXPECT_TRUE(t.Heard(FarId(10), At("198.51.101.1", 1), 0).added);  // the next /24
  EXPECT_EQ(t.size(), 4u);
}

TEST_F(RoutingLimitsTest, AFailingContactCannotMoveOverACap) {
  RoutingTable t = Make({.max_per_ip = 1, .max_per_subnet = 8});
  t.Heard(FarId(1), At("203.0.113.5", 1), 0);
  t.Heard(FarId(2), At("203.0.113.6", 1), 0);
  t.Failed(FarId(2));
  EXPECT_TRUE(t.Heard(FarId(2), At("203.0.113.5", 2), 10).refused);  // 203.0.113.5 is taken
  EXPECT_EQ(t.Find(FarId(2))->endpoint, At("203.0.113.6", 1));
  EXPECT_FALSE(t.Heard(FarId(2), At("203.0.113.7", 1), 20).refused);
  EXPECT_EQ(t.CountAt("203.0.113.6"), 0u);
  EXPECT_EQ(t.CountAt("203.0.113.7"), 1u);
}

TEST_F(RoutingLimitsTest, LoopbackAndOwnSubnetsGetTheLocalCap) {
  RoutingTable t = Make({.max_per_ip = 1, .max_per_subnet = 2, .max_per_local_network = 20,
                         .local_addresses = {"192.168.7.10"}});
  // A test swarm of 20 nodes on 127.0.0.1.
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(t.Heard(FarId(i), At("127.0.0.1", 9000 + i), 0).added) << i;
  EXPECT_TRUE(t.Heard(FarId(20), At("127.0.0.1", 9020), 0).refused);  // the local cap still holds
  // This node's own LAN.
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(t.Heard(FarId(100 + i), At("192.168.7." + std::to_string(20 + i), 1), 0).added);
  }
  // Another LAN is remote.
  EXPECT_TRUE(t.Heard(FarId(200), At("192.168.8.1", 1), 0).added);
  EXPECT_TRUE(t.Heard(FarId(201), At("192.168.8.1", 2), 0).refused);
  EXPECT_TRUE(t.Heard(FarId(202), At("192.168.8.2", 1), 0).added);
  EXPECT_TRUE(t.Heard(FarId(203), At("192.168.8.3", 1), 0).refused);
}

}  // namespace
}  // namespace llamanet::dht
