#include "dht/storage.h"

#include <gtest/gtest.h>

#include "dht/record_signing.h"

namespace llamanet::dht {
namespace {

Record Rec(const std::string& node_id, double last_seen, const std::string& extra = "") {
  auto r = ParseRecord(R"({"node_id":")" + node_id + R"(","last_seen":)" + std::to_string(last_seen) + extra + "}");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

class StorageTest : public ::testing::Test {
 protected:
  StorageTest() : clock_(1000.0) {}  // wall time 1000 s at t=0
  Storage Make(StorageOptions o = {}) { return Storage(o, clock_); }
  ManualClock clock_;
};

TEST_F(StorageTest, KeepsOneEntryPerNodeIdUnderAKey) {
  Storage s = Make();
  ASSERT_TRUE(s.Put("model:m", Rec("a", 1000)).ok());
  ASSERT_TRUE(s.Put("model:m", Rec("b", 999)).ok());
  ASSERT_TRUE(s.Put("model:m", Rec("a", 1000.5)).ok());  // a newer record replaces a's
  auto live = s.Live("model:m");
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].node_id, "a");
  EXPECT_EQ(live[0].last_seen, 1000.5);
  EXPECT_EQ(live[1].node_id, "b");
  EXPECT_EQ(s.record_count(), 2u);
}

TEST_F(StorageTest, EachRecordExpiresOnItsOwn) {
  Storage s = Make({.ttl_s = 30});
  ASSERT_TRUE(s.Put("all_nodes", Rec("old", 980)).ok());   // expires at 1010
  ASSERT_TRUE(s.Put("all_nodes", Rec("new", 1000)).ok());  // expires at 1030
  // A last_seen ahead of our clock (within the skew) is capped at the time it was received.
  ASSERT_TRUE(s.Put("all_nodes", Rec("skewed", 1020)).ok());  // expires at 1030
  clock_.SetMs(10'000);
  auto live = s.Live("all_nodes");
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].node_id, "skewed");
  EXPECT_EQ(live[1].node_id, "new");
  EXPECT_EQ(s.Sweep(), 1u);
  clock_.SetMs(30'000);
  EXPECT_TRUE(s.Live("all_nodes").empty());
  EXPECT_EQ(s.Sweep(), 2u);
  EXPECT_EQ(s.key_count(), 0u);
  EXPECT_EQ(s.bytes(), 0u);
  EXPECT_EQ(s.Put("all_nodes", Rec("stale", 960)).message(), "record expired");
}

TEST_F(StorageTest, RefusesReplays) {
  Storage s = Make();
  ASSERT_TRUE(s.Put("k", Rec("a", 1000)).ok());
  EXPECT_EQ(s.Put("k", Rec("a", 999)).message(), "replay: last_seen older than the stored record");
  EXPECT_TRUE(s.Put("k", Rec("a", 1000)).ok());  // the same record again
}

TEST_F(StorageTest, NodeKeysTakeOnlyTheirOwnNode) {
  Storage s = Make();
  EXPECT_TRUE(s.Put("node:a", Rec("a", 1000)).ok());
  EXPECT_EQ(s.Put("node:a", Rec("b", 1000)).message(), "record node_id does not match the key");
  EXPECT_TRUE(IsSingleRecordKey("node:a"));
  EXPECT_FALSE(IsSingleRecordKey("model:a"));
  EXPECT_FALSE(IsSingleRecordKey("all_nodes"));
}

TEST_F(StorageTest, SignedRecordsCannotBeTakenOver) {
  auto key1 = IdentityKey::Generate();
  auto key2 = IdentityKey::Generate();
  ASSERT_TRUE(key1.ok() && key2.ok());
  Storage s = Make();
  ASSERT_TRUE(s.Put("model:m", *SignRecord(Rec("a", 1000), *key1)).ok());
  EXPECT_EQ(s.Put("model:m", Rec("a", 1000.5)).message(), "signed record cannot be replaced by an unsigned one");
  EXPECT_EQ(s.Put("model:m", *SignRecord(Rec("a", 1000.5), *key2)).message(),
            "signed record cannot be replaced by one signed with another key");
  EXPECT_EQ(s.Put("model:m", *SignRecord(Rec("a", 999), *key1)).message(),
            "replay: last_seen older than the stored record");
  EXPECT_TRUE(s.Put("model:m", *SignRecord(Rec("a", 1000.5), *key1)).ok());
  // A forged signature.
  Record forged = *SignRecord(Rec("z", 1000, R"(,"load":1)"), *key1);
  forged = *ParseRecord([&] {
    std::string j = forged.json;
    j.replace(j.find("\"load\":1"), 8, "\"load\":2");
    return j;
  }());
  EXPECT_EQ(s.Put("model:m", forged).message(), "bad signature");
}

TEST_F(StorageTest, RefusesRecordsDatedBeyondTheSkew) {
  Storage s = Make({.max_future_skew_s = 30});
  EXPECT_TRUE(s.Put("k", Rec("near", 1030)).ok());
  EXPECT_EQ(s.Put("k", Rec("far", 1031)).message(), "record from the future");
  EXPECT_EQ(s.Validate("k", Rec("far", 1031)).message(), "record from the future");
  // A publisher whose clock runs ahead cannot pin its record over its replay rule either.
  EXPECT_EQ(s.Put("k", Rec("near", 5000)).message(), "record from the future");
  Storage lenient = Make({.max_future_skew_s = 5000});
  EXPECT_TRUE(lenient.Put("k", Rec("far", 1031)).ok());
}

TEST_F(StorageTest, SignedRecordsWithADerivedIdMustCarryTheirKey) {
  auto key = IdentityKey::Generate();
  auto other = IdentityKey::Generate();
  ASSERT_TRUE(key.ok() && other.ok());
  const std::string own_id = key->public_key_hex().substr(0, 16);
  Storage s = Make();
  EXPECT_TRUE(s.Put("model:m", *SignRecord(Rec(own_id, 1000), *key)).ok());
  // Another key's holder signing a record for this id: refused, even for a new node_id slot.
  Record stolen = *SignRecord(Rec(other->public_key_hex().substr(0, 16), 1000), *key);
  EXPECT_EQ(s.Put("model:m", stolen).message(), "node_id is not derived from the record's key");
  EXPECT_EQ(s.Validate("model:m", stolen).message(), "node_id is not derived from the record's key");
  // Ids of other forms (names, 40-digit ids, upper case) are not derived ids: not bound.
  EXPECT_TRUE(s.Put("model:m", *SignRecord(Rec("bootstrap-node", 1000), *key)).ok());
  EXPECT_TRUE(s.Put("model:m", *SignRecord(Rec(std::string(40, 'a'), 1000), *key)).ok());
  EXPECT_TRUE(s.Put("model:m", *SignRecord(Rec("ABCDEF0123456789", 1000), *key)).ok());
  // Unsigned records are not bound (Python nodes), but cannot take over the signed id.
  EXPECT_EQ(s.Put("model:m", Rec(own_id, 1000.5)).message(), "signed record cannot be replaced by an unsigned one");
}

TEST_F(StorageTest, QuotaPerSourceAddress) {
  Storage s = Make({.limits = {.max_records_per_source = 3, .max_bytes_per_source = 1 << 20}});
  for (std::string id : {"a", "b", "c"}) ASSERT_TRUE(s.Put("all_nodes", Rec(id, 1000), "10.0.0.1").ok());
  EXPECT_EQ(s.Put("all_nodes", Rec("d", 1000), "10.0.0.1").message(), "source is over its storage quota");
  EXPECT_EQ(s.Put("model:x", Rec("d", 1000), "10.0.0.1").message(), "source is over its storage quota");
  // A refresh of a record the source holds costs nothing more.
  EXPECT_TRUE(s.Put("all_nodes", Rec("a", 1000.5), "10.0.0.1").ok());
  // Other sources, and this node itself, are not affected.
  EXPECT_TRUE(s.Put("all_nodes", Rec("d", 1000), "10.0.0.2").ok());
  EXPECT_TRUE(s.Put("all_nodes", Rec("e", 1000)).ok());
  EXPECT_EQ(s.SourceUsage("10.0.0.1").first, 3u);
  // A record that moves to another source is refunded to the first one.
  EXPECT_TRUE(s.Put("all_nodes", Rec("b", 1000.5), "10.0.0.2").ok());
  EXPECT_EQ(s.SourceUsage("10.0.0.1").first, 2u);
  EXPECT_TRUE(s.Put("all_nodes", Rec("f", 1000), "10.0.0.1").ok());
  // Expired records give their quota back when swept.
  clock_.SetMs(40'000);
  s.Sweep();
  EXPECT_EQ(s.SourceUsage("10.0.0.1"), (std::pair<size_t, size_t>{0, 0}));

  Storage bytes = Make({.limits = {.max_records_per_source = 100, .max_bytes_per_source = 80}});
  ASSERT_TRUE(bytes.Put("k", Rec("a", 1040), "10.0.0.1").ok());  // 34 bytes
  ASSERT_TRUE(bytes.Put("k", Rec("b", 1040), "10.0.0.1").ok());
  EXPECT_EQ(bytes.Put("k", Rec("c", 1040), "10.0.0.1").message(), "source is over its storage quota");
  EXPECT_EQ(bytes.SourceUsage("10.0.0.1").second, 2 * Rec("a", 1040).json.size());
}

TEST_F(StorageTest, RequireSignedRefusesUnsignedRecords) {
  Storage s = Make({.require_signed = true});
  EXPECT_EQ(s.Put("k", Rec("a", 1000)).message(), "unsigned record refused: signatures required");
  EXPECT_TRUE(s.Put("k", *SignRecord(Rec("a", 1000), *IdentityKey::Generate())).ok());
}

TEST_F(StorageTest, TombstoneHidesTheRecordAndBlocksItsReplay) {
  Storage s = Make();
  Record live = Rec("a", 1000);
  ASSERT_TRUE(s.Put("model:m", live).ok());
  ASSERT_TRUE(s.Put("model:m", Rec("b", 1000)).ok());
  Record tomb = MakeTombstone(live, 1000);
  EXPECT_TRUE(tomb.withdrawn);
  EXPECT_GT(tomb.last_seen, live.last_seen);
  ASSERT_TRUE(s.Put("model:m", tomb).ok());
  auto remaining = s.Live("model:m");
  ASSERT_EQ(remaining.size(), 1u);
  EXPECT_EQ(remaining[0].node_id, "b");
  EXPECT_EQ(s.Put("model:m", live).message(), "replay: last_seen older than the stored record");
}

TEST_F(StorageTest, EnforcesLimits) {
  Storage s = Make({.limits = {.max_keys = 2, .max_records_per_key = 2, .max_total_bytes = 1 << 20, .max_record_bytes = 200}});
  ASSERT_TRUE(s.Put("k1", Rec("a", 1000)).ok());
  ASSERT_TRUE(s.Put("k2", Rec("a", 1000)).ok());
  EXPECT_EQ(s.Put("k3", Rec("a", 1000)).message(), "too many keys");
  ASSERT_TRUE(s.Put("k1", Rec("b", 999)).ok());
  EXPECT_EQ(s.Put("k1", Rec("c", 998)).message(), "key is full");  // staler than everything held
  ASSERT_TRUE(s.Put("k1", Rec("c", 1000)).ok());                     // evicts the stalest (b)
  auto k1 = s.Live("k1");
  ASSERT_EQ(k1.size(), 2u);
  EXPECT_EQ(k1[1].node_id, "c");
  Status big = s.Put("k1", Rec("d", 1000, R"(,"pad":")" + std::string(300, 'x') + "\""));
  EXPECT_EQ(big.code(), Status::Code::kTooLarge);

  Storage tiny = Make({.limits = {.max_keys = 10, .max_records_per_key = 10, .max_total_bytes = 80, .max_record_bytes = 200}});
  ASSERT_TRUE(tiny.Put("k", Rec("a", 1000)).ok());  // 35 bytes
  ASSERT_TRUE(tiny.Put("k", Rec("b", 1000)).ok());
  EXPECT_EQ(tiny.Put("k", Rec("c", 1000)).message(), "storage is full");
}

TEST_F(StorageTest, LiveOrderIsFreshestThenLeastLoaded) {
  Storage s = Make();
  ASSERT_TRUE(s.Put("m", Rec("busy", 1000, R"(,"load":0.9)")).ok());
  ASSERT_TRUE(s.Put("m", Rec("idle", 1000, R"(,"load":0.1)")).ok());
  ASSERT_TRUE(s.Put("m", Rec("older", 999, R"(,"load":0)")).ok());
  auto live = s.Live("m");
  ASSERT_EQ(live.size(), 3u);
  EXPECT_EQ(live[0].node_id, "idle");
  EXPECT_EQ(live[1].node_id, "busy");
  EXPECT_EQ(live[2].node_id, "older");
}

}  // namespace
}  // namespace llamanet::dht
