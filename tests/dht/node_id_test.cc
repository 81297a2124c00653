#include "dht/node_id.h"

#include <gtest/gtest.h>

#include <set>

namespace llamanet::dht {
namespace {

TEST(NodeIdTest, ParsesWidthsFrom16To64Digits) {
  EXPECT_TRUE(NodeId::FromHex("0123456789abcdef"));
  EXPECT_TRUE(NodeId::FromHex(std::string(40, 'f')));
  EXPECT_TRUE(NodeId::FromHex(std::string(64, 'A')));
  EXPECT_FALSE(NodeId::FromHex("0123456789abcde"));   // 15 digits
  EXPECT_FALSE(NodeId::FromHex(std::string(65, 'a')));
  EXPECT_FALSE(NodeId::FromHex("0123456789abcdeg"));
  EXPECT_FALSE(NodeId::FromHex(""));
}

TEST(NodeIdTest, KeepsWidthAndLowerCasesText) {
  EXPECT_EQ(NodeId::FromHex("00000000000000AB")->ToHex(), "00000000000000ab");
  EXPECT_EQ(NodeId::FromHex(std::string(40, '0'))->hex_digits(), 40);
}

TEST(NodeIdTest, ComparesAsIntegersAcrossWidths) {
  // Python's int(x, 16): a 16-digit id equals the 40-digit id with the same value.
  auto short_id = *NodeId::FromHex("00000000000000ff");
  auto long_id = *NodeId::FromHex(std::string(38, '0') + "ff");
  EXPECT_EQ(short_id, long_id);
  EXPECT_EQ(short_id.DistanceBit(long_id), -1);
  auto a = *NodeId::FromHex("0000000000000001");
  auto b = *NodeId::FromHex("8000000000000000");
  auto wide = *NodeId::FromHex("1" + std::string(39, '0'));
  EXPECT_EQ(a.DistanceBit(b), 63);
  EXPECT_EQ(a.DistanceBit(wide), 156);  // the wide id's top bit is bit 156
}

TEST(NodeIdTest, CloserUsesXorDistance) {
  auto target = *NodeId::FromHex("0000000000000000");
  auto near = *NodeId::FromHex("0000000000000003");
  auto far = *NodeId::FromHex("0000000000000004");
  EXPECT_TRUE(NodeId::Closer(target, near, far));
  EXPECT_FALSE(NodeId::Closer(target, far, near));
  EXPECT_FALSE(NodeId::Closer(target, near, near));
  auto t2 = *NodeId::FromHex("0000000000000007");  // 7^3=4, 7^4=3
  EXPECT_TRUE(NodeId::Closer(t2, far, near));
}

TEST(NodeIdTest, Sha1IsTheKeyTarget) {
  EXPECT_EQ(NodeId::Sha1("abc").ToHex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(KeyTarget("abc"), NodeId::Sha1("abc"));
}

TEST(NodeIdTest, NodeIdFromName) {
  EXPECT_EQ(NodeIdFromName("bootstrap-node"), NodeId::Sha1("bootstrap-node").ToHex());
  EXPECT_EQ(NodeIdFromName("0123456789ABCDEF"), "0123456789abcdef");
  EXPECT_EQ(NodeIdFromName(std::string(40, 'a')), std::string(40, 'a'));
  // Over 40 digits is a name, not an id.
  EXPECT_EQ(NodeIdFromName(std::string(41, 'a')), NodeId::Sha1(std::string(41, 'a')).ToHex());
}

TEST(NodeIdTest, RandomAtDistanceBitLandsInThatBucket) {
  std::mt19937_64 rng(7);
  auto self = NodeId::Random(rng);
  for (int bit : {0, 1, 7, 8, 63, 100, 159}) {
    for (int i = 0; i < 20; ++i) EXPECT_EQ(self.DistanceBit(self.RandomAtDistanceBit(bit, rng)), bit);
  }
  EXPECT_EQ(self.RandomAtDistanceBit(200, rng).hex_digits(), 51);  // widened to hold bit 200
}

TEST(NodeIdTest, RandomSharingPrefixKeepsThePrefixAndDrawsTheRest) {
  std::mt19937_64 rng(9);
  const NodeId key = NodeId::Sha1("model:x");
  for (int prefix : {0, 1, 4, 13, 159}) {
    std::set<std::string> drawn;
    for (int i = 0; i < 20; ++i) {
      NodeId point = key.RandomSharingPrefix(prefix, rng);
      EXPECT_EQ(point.hex_digits(), 40);
      EXPECT_LE(key.DistanceBit(point), 159 - prefix) << "prefix " << prefix;  // the first `prefix` bits agree
      drawn.insert(point.ToHex());
    }
    EXPECT_GT(drawn.size(), prefix == 159 ? 1u : 15u) << "prefix " << prefix;  // the rest is random
  }
  EXPECT_EQ(key.RandomSharingPrefix(160, rng), key);
  EXPECT_EQ(key.RandomSharingPrefix(NodeId::kBits, rng), key);
}

}  // namespace
}  // namespace llamanet::dht
