#include "protocol/node_record.h"

#include <gtest/gtest.h>

#include <string>

namespace llamanet::protocol {
namespace {

// A valid record with `field` set to the JSON text `value` ("" leaves it out).
std::string With(const std::string& field, const std::string& value) {
  std::string fields[][2] = {{"node_id", R"("n1")"},
                             {"ip", R"("10.0.0.2")"},
                             {"port", "8000"},
                             {"model", R"("tiny")"},
                             {"last_seen", "1700000000"}};
  std::string out = "{";
  bool set = false;
  for (auto& [name, text] : fields) {
    if (name == field) {
      set = true;
      if (value.empty()) continue;
      text = value;
    }
    out += (out.size() > 1 ? "," : "") + ("\"" + name + "\":" + text);
  }
  if (!set && !value.empty()) out += ",\"" + field + "\":" + value;
  return out + "}";
}

TEST(NodeRecordTest, ReadsAPythonRecord) {
  auto r = ParseNodeRecord(R"({"node_id":"ab12","ip":"10.0.0.2","port":8000,"model":"tinyllama","load":0.5,
                               "tps":12.5,"uptime":30,"last_seen":1700000000.5,"dht_port":8001})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->node_id, "ab12");
  EXPECT_EQ(r->ip, "10.0.0.2");
  EXPECT_EQ(r->port, 8000);
  EXPECT_EQ(r->model, "tinyllama");
  EXPECT_DOUBLE_EQ(r->load, 0.5);
  EXPECT_DOUBLE_EQ(r->tps, 12.5);
  EXPECT_DOUBLE_EQ(r->uptime, 30);
  EXPECT_DOUBLE_EQ(r->last_seen, 1700000000.5);
  EXPECT_EQ(r->dht_port, 8001);
  EXPECT_EQ(r->slots, 0);  // unknown
  EXPECT_TRUE(r->pubkey.empty());
  EXPECT_TRUE(r->openai_compatible);
  EXPECT_TRUE(r->generation);   // every node before embeddings generated
  EXPECT_FALSE(r->embeddings);  // and served none
}

TEST(NodeRecordTest, ReadsOurFieldsAndIgnoresUnknownOnes) {
  const std::string key(64, 'a');
  auto r = ParseNodeRecord(R"({"node_id":"n1","ip":"::1","port":9000,"model":"m","last_seen":1,"slots":4,
      "free_slots":3,"queue":1,"n_ctx":2048,"model_sha256":")" +
                           std::string(64, 'f') + R"(","version":"0.1.0","openai_compatible":false,"pubkey":")" + key +
                           R"(","sig":"11","extra":[1,{"a":null}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->slots, 4);
  EXPECT_EQ(r->free_slots, 3);
  EXPECT_EQ(r->queue, 1);
  EXPECT_EQ(r->n_ctx, 2048);
  EXPECT_EQ(r->model_sha256, std::string(64, 'f'));
  EXPECT_EQ(r->version, "0.1.0");
  EXPECT_FALSE(r->openai_compatible);
  EXPECT_EQ(r->pubkey, key);
  auto embedder = ParseNodeRecord(R"({"node_id":"n1","ip":"::1","port":9000,"model":"m","last_seen":1,
      "generation":false,"embeddings":true})");
  ASSERT_TRUE(embedder.ok()) << embedder.status().ToString();
  EXPECT_FALSE(embedder->generation);
  EXPECT_TRUE(embedder->embeddings);
  EXPECT_FALSE(ParseNodeRecord(R"({"node_id":"n1","ip":"::1","port":9000,"model":"m","last_seen":1,
      "embeddings":"yes"})").ok());
}

TEST(NodeRecordTest, NullMeansAbsent) {
  auto r = ParseNodeRecord(With("load", "null"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->load, 0);
  EXPECT_FALSE(ParseNodeRecord(With("port", "null")).ok());  // required
}

TEST(NodeRecordTest, AcceptsTheEdgesOfEachRange) {
  const std::string accepted[] = {
      With("port", "1"),
      With("port", "65535"),
      With("load", "0"),
      With("load", "1"),
      With("load", "1.0"),
      With("tps", "0"),
      With("tps", "1e6"),
      With("dht_port", "0"),
      With("node_id", R"("bootstrap-node")"),
      With("node_id", "\"" + std::string(64, 'x') + "\""),
      With("ip", R"("2001:db8::1")"),
      With("ip", R"("node-1.example.org")"),
      With("ip", R"("localhost")"),
      With("ip", R"("255.255.255.255")"),
      With("model", R"("tinyllama-1.1b.Q4_K_M")"),
      With("model", R"("modèle")"),
      With("slots", R"(2,"free_slots":2)"),
      With("version", R"("")"),
      With("model_sha256", R"("")"),
  };
  for (const std::string& json : accepted) {
    auto r = ParseNodeRecord(json);
    EXPECT_TRUE(r.ok()) << json << ": " << r.status().ToString();
  }
}

TEST(NodeRecordTest, RefusesBadRecordsNamingTheField) {
  const std::string huge(100000, 'x');
  struct Case {
    std::string json;
    const char* field;
  } cases[] = {
      // Missing required fields.
      {With("node_id", ""), "node_id"},
      {With("ip", ""), "ip"},
      {With("port", ""), "port"},
      {With("model", ""), "model"},
      {With("last_seen", ""), "last_seen"},
      // Wrong types, required and optional alike: one rule.
      {With("load", R"("high")"), "load"},
      {With("load", "true"), "load"},
      {With("tps", "[1]"), "tps"},
      {With("uptime", R"({"s":1})"), "uptime"},
      {With("slots", R"("4")"), "slots"},
      {With("slots", "2.5"), "slots"},
      {With("dht_port", "8001.0"), "dht_port"},
      {With("version", "1"), "version"},
      {With("openai_compatible", R"("yes")"), "openai_compatible"},
      {With("generation", "1"), "generation"},
      {With("embeddings", R"("true")"), "embeddings"},
      {With("node_id", "7"), "node_id"},
      {With("port", R"("8000")"), "port"},
      {With("port", "8000.5"), "port"},
      {With("model", "false"), "model"},
      {With("pubkey", "1"), "pubkey"},
      // Out of range.
      {With("port", "0"), "port"},
      {With("port", "65536"), "port"},
      {With("port", "-1"), "port"},
      {With("port", "18446744073709551615"), "port"},
      {With("load", "-0.1"), "load"},
      {With("load", "1.5"), "load"},
      {With("load", "NaN"), "object"},    // not JSON at all
      {With("load", "1e999"), "object"},  // overflows: the parser refuses it
      {With("tps", "-1"), "tps"},
      {With("tps", "-1e999"), "object"},
      {With("uptime", "-5"), "uptime"},
      {With("last_seen", "-1"), "last_seen"},
      {With("last_seen", "1e400"), "object"},
      {With("dht_port", "70000"), "dht_port"},
      {With("slots", "-1"), "slots"},
      {With("slots", "100000"), "slots"},
      {With("queue", "-3"), "queue"},
      {With("n_ctx", "4294967296"), "n_ctx"},
      {With("slots", R"(2,"free_slots":3)"), "free_slots"},
      // Strings.
      {With("node_id", R"("")"), "node_id"},
      {With("node_id", R"("has space")"), "node_id"},
      {With("node_id", R"("tab\there")"), "node_id"},
      {With("node_id", R"("nœud")"), "node_id"},
      {With("node_id", "\"" + std::string(65, 'x') + "\""), "node_id"},
      {With("node_id", "\"" + huge + "\""), "bytes"},  // over max_record_bytes
      {With("model", R"("")"), "model"},
      {With("model", R"("a\nb")"), "model"},
      {With("model", "\"" + std::string(257, 'm') + "\""), "model"},
      {With("version", "\"" + std::string(65, 'v') + "\""), "version"},
      {With("model_sha256", R"("abc")"), "model_sha256"},
      {With("model_sha256", "\"" + std::string(64, 'F') + "\""), "model_sha256"},
      {With("pubkey", "\"" + std::string(64, 'g') + "\""), "pubkey"},
      // Addresses.
      {With("ip", R"("")"), "ip"},
      {With("ip", R"("http://10.0.0.2")"), "ip"},
      {With("ip", R"("10.0.0.2:80")"), "ip"},
      {With("ip", R"("[::1]")"), "ip"},
      {With("ip", R"("fe80::1%eth0")"), "ip"},
      {With("ip", R"("127.1")"), "ip"},
      {With("ip", R"("0x7f.1")"), "ip"},
      {With("ip", R"("2130706433")"), "ip"},
      {With("ip", R"("a..b")"), "ip"},
      {With("ip", R"("-a.b")"), "ip"},
      {With("ip", R"("a b")"), "ip"},
      {With("ip", R"("host.")"), "ip"},
      {With("ip", "\"" + std::string(64, 'a') + ".org\""), "ip"},
      {With("ip", "\"" + std::string(250, 'a') + "\""), "ip"},
      // Not a record.
      {"[1]", "object"},
      {"not json", "object"},
      {"", "object"},
  };
  for (const Case& c : cases) {
    auto r = ParseNodeRecord(c.json);
    ASSERT_FALSE(r.ok()) << c.json.substr(0, 200);
    EXPECT_NE(r.status().message().find(c.field), std::string::npos)
        << c.json.substr(0, 200) << ": " << r.status().message();
  }
}

TEST(NodeRecordTest, RecordSizeIsBounded) {
  NodeRecordLimits limits;
  limits.max_record_bytes = 100;
  const std::string json = With("model", "\"" + std::string(100, 'm') + "\"");
  EXPECT_EQ(ParseNodeRecord(json, limits).status().code(), Status::Code::kTooLarge);
  limits.max_record_bytes = json.size();
  EXPECT_TRUE(ParseNodeRecord(json, limits).ok());
}

TEST(NodeRecordTest, LimitsAreOptions) {
  NodeRecordLimits limits;
  limits.max_slots = 8;
  EXPECT_TRUE(ParseNodeRecord(With("slots", "8"), limits).ok());
  EXPECT_FALSE(ParseNodeRecord(With("slots", "9"), limits).ok());
  limits.max_node_id_bytes = 2;
  EXPECT_TRUE(ParseNodeRecord(With("node_id", R"("ab")"), limits).ok());
  EXPECT_FALSE(ParseNodeRecord(With("node_id", R"("abc")"), limits).ok());
  limits.max_host_bytes = 4;
  EXPECT_TRUE(ParseNodeRecord(With("ip", R"("a.bc")"), limits).ok());
  EXPECT_FALSE(ParseNodeRecord(With("ip", R"("a.bcd")"), limits).ok());
}

TEST(NodeRecordTest, RoundTrips) {
  NodeRecord r;
  r.node_id = "0123456789abcdef";
  r.ip = "192.168.1.20";
  r.port = 8000;
  r.model = "tiny";
  r.load = 0.25;
  r.tps = 31.5;
  r.uptime = 12;
  r.last_seen = 1700000000.25;
  r.dht_port = 8001;
  r.slots = 4;
  r.free_slots = 3;
  r.queue = 2;
  r.n_ctx = 4096;
  r.model_sha256 = std::string(64, '0');
  r.version = "0.1.0";
  r.openai_compatible = true;
  r.generation = false;
  r.embeddings = true;
  const std::string json = NodeRecordJson(r);
  EXPECT_EQ(json.find("pubkey"), std::string::npos);
  auto back = ParseNodeRecord(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(NodeRecordTest, FreeSlots) {
  NodeRecord ours;
  ours.slots = 4;
  ours.free_slots = 2;
  ours.load = 0.5;
  EXPECT_EQ(FreeSlotsOf(ours), 2);
  ours.free_slots = 0;
  EXPECT_EQ(FreeSlotsOf(ours), 0);
  NodeRecord python;  // carries only load
  python.load = 0.99;
  EXPECT_EQ(FreeSlotsOf(python), 1);
  python.load = 1;
  EXPECT_EQ(FreeSlotsOf(python), 0);
}

TEST(NodeRecordTest, Hosts) {
  EXPECT_TRUE(IsValidHost("10.1.2.3", 253));
  EXPECT_TRUE(IsValidHost("::ffff:10.1.2.3", 253));
  EXPECT_TRUE(IsValidHost("my-node", 253));
  EXPECT_TRUE(IsValidHost("a1.b2.example", 253));
  EXPECT_FALSE(IsValidHost("1.2.3", 253));  // a numeric form inet_aton reads as 1.2.0.3
  EXPECT_FALSE(IsValidHost("10.1.2.3.4", 253));
  EXPECT_FALSE(IsValidHost("example.123", 253));
  EXPECT_FALSE(IsValidHost("exa_mple", 253));
  EXPECT_FALSE(IsValidHost(std::string("a\0b", 3), 253));
}

}  // namespace
}  // namespace llamanet::protocol
