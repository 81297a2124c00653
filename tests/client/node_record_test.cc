#include "client/node_record.h"

#include <gtest/gtest.h>

namespace llamanet::client {
namespace {

// The rules themselves are tested with the protocol library (tests/protocol); here: the client
// reads records by them, and shows them as NodeInfo.

TEST(NodeRecordTest, ShowsAPythonRecord) {
  auto r = protocol::ParseNodeRecord(R"({"node_id":"ab12","ip":"10.0.0.2","port":8000,"model":"tinyllama",
      "load":0.5,"tps":12.5,"uptime":30,"last_seen":1700000000,"dht_port":8001})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  NodeInfo n = ToNodeInfo(*r);
  EXPECT_EQ(n.node_id, "ab12");
  EXPECT_EQ(n.address(), "10.0.0.2:8000");
  EXPECT_EQ(n.model, "tinyllama");
  EXPECT_DOUBLE_EQ(n.load, 0.5);
  EXPECT_DOUBLE_EQ(n.tps, 12.5);
  EXPECT_DOUBLE_EQ(n.uptime, 30);
  EXPECT_DOUBLE_EQ(n.last_seen, 1700000000);
  EXPECT_EQ(n.dht_port, 8001);
  EXPECT_EQ(n.slots, 0);  // unknown
}

TEST(NodeRecordTest, ShowsOurFields) {
  auto r = protocol::ParseNodeRecord(R"({"node_id":"n1","ip":"::1","port":9000,"model":"m","last_seen":1,
      "slots":4,"free_slots":3,"queue":1,"n_ctx":2048,"model_sha256":")" + std::string(64, 'f') +
                                     R"(","version":"0.1.0","extra":[1]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  NodeInfo n = ToNodeInfo(*r);
  EXPECT_EQ(n.slots, 4);
  EXPECT_EQ(n.free_slots, 3);
  EXPECT_EQ(n.queue, 1);
  EXPECT_EQ(n.n_ctx, 2048);
  EXPECT_EQ(n.model_sha256, std::string(64, 'f'));
  EXPECT_EQ(n.version, "0.1.0");
  EXPECT_EQ(n.address(), "[::1]:9000");
}

TEST(NodeRecordTest, AMistypedFieldIsNoRecordForTheClientEither) {
  // Clients used to keep this record with load 0 and rank it the least loaded; nodes dropped it.
  auto r = protocol::ParseNodeRecord(
      R"({"node_id":"n","ip":"10.0.0.2","port":8000,"model":"m","last_seen":1,"load":"high"})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("load"), std::string::npos);
}

}  // namespace
}  // namespace llamanet::client
