#include "client/node_record.h"

#include <gtest/gtest.h>

namespace llamanet::client {
namespace {

TEST(NodeRecordTest, ReadsAPythonRecord) {
  auto n = ParseNodeRecord(R"({"node_id":"ab12","ip":"10.0.0.2","port":8000,"model":"tinyllama","load":0.5,
                               "tps":12.5,"uptime":30,"last_seen":1700000000,"dht_port":8001})");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->node_id, "ab12");
  EXPECT_EQ(n->address(), "10.0.0.2:8000");
  EXPECT_EQ(n->model, "tinyllama");
  EXPECT_DOUBLE_EQ(n->load, 0.5);
  EXPECT_DOUBLE_EQ(n->tps, 12.5);
  EXPECT_EQ(n->dht_port, 8001);
  EXPECT_EQ(n->slots, 0);  // unknown
}

TEST(NodeRecordTest, ReadsOurFieldsAndIgnoresUnknownOnes) {
  auto n = ParseNodeRecord(R"({"node_id":"n1","ip":"::1","port":9000,"model":"m","slots":4,"free_slots":3,
      "queue":1,"n_ctx":2048,"model_sha256":"ff","version":"0.1.0","pubkey":"00","sig":"11","extra":[1]})");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->slots, 4);
  EXPECT_EQ(n->free_slots, 3);
  EXPECT_EQ(n->queue, 1);
  EXPECT_EQ(n->n_ctx, 2048);
  EXPECT_EQ(n->version, "0.1.0");
  EXPECT_EQ(n->address(), "[::1]:9000");
}

TEST(NodeRecordTest, NamesTheBadField) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"ip":"a","port":1,"model":"m"})", "node_id"},
      {R"({"node_id":"n","port":1,"model":"m"})", "ip"},
      {R"({"node_id":"n","ip":"a","port":"80","model":"m"})", "port"},
      {R"({"node_id":"n","ip":"a","port":70000,"model":"m"})", "port"},
      {R"({"node_id":"n","ip":"a","port":1})", "model"},
      {R"([1])", "object"},
      {R"(not json)", "object"},
  };
  for (const Case& c : cases) {
    auto n = ParseNodeRecord(c.json);
    ASSERT_FALSE(n.ok()) << c.json;
    EXPECT_EQ(n.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(n.status().message().find(c.field), std::string::npos) << n.status().message();
  }
}

TEST(NodeRecordTest, MistypedOptionalFieldsKeepDefaults) {
  auto n = ParseNodeRecord(R"({"node_id":"n","ip":"a","port":1,"model":"m","load":"high","slots":null})");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->load, 0);
  EXPECT_EQ(n->slots, 0);
}

}  // namespace
}  // namespace llamanet::client
