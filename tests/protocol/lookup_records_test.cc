#include "protocol/lookup_records.h"

#include <gtest/gtest.h>

#include "record_maker.h"

namespace llamanet::protocol {
namespace {

constexpr double kNow = 1'700'000'000;

TEST(LookupRecordsTest, MergesByIdentityThenValidates) {
  dht::IdentityKey key = NewKey();
  const std::string id = NodeIdFromPublicKey(key.public_key_hex());
  dht::IdentityKey forger = NewKey();
  IdentityBook book;
  std::vector<NodeRecord> nodes =
      ReadNodeRecords(book,
                      {
                          MakeRecord(id, kNow - 1, &key, R"("load":0.75,"slots":4,"free_slots":1)"),
                          MakeRecord(id, kNow, &forger, R"("load":0)"),  // forged id
                          MakeRecord("py-good", kNow - 2, nullptr, R"("load":0.5)"),
                          MakeRecord("py-high", kNow - 3, nullptr, R"("load":"high")"),  // mistyped: no record
                          MakeRecord("py-slow", kNow - 3, nullptr, R"("tps":-1)"),
                          MakeRecord("gone", kNow - 4, nullptr, R"("withdrawn":true)"),  // a tombstone
                          MakeRecord("future", kNow + 600, nullptr),
                      },
                      kNow);
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].node_id, id);
  EXPECT_EQ(nodes[0].pubkey, key.public_key_hex());
  EXPECT_DOUBLE_EQ(nodes[0].load, 0.75);
  EXPECT_EQ(FreeSlotsOf(nodes[0]), 1);
  EXPECT_EQ(nodes[1].node_id, "py-good");
  EXPECT_TRUE(nodes[1].pubkey.empty());
}

TEST(LookupRecordsTest, LimitsApply) {
  IdentityBook book;
  NodeRecordLimits limits;
  limits.max_model_bytes = 0;
  EXPECT_TRUE(ReadNodeRecords(book, {MakeRecord("py", kNow, nullptr)}, kNow, limits).empty());
}

}  // namespace
}  // namespace llamanet::protocol
