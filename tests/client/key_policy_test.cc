// KeyPolicy: the API key goes to named nodes and to a private swarm's nodes, never to a node
// that a public swarm's DHT merely lists.
#include "client/key_policy.h"

#include <gtest/gtest.h>

namespace llamanet::client {
namespace {

KeyPolicy Make(std::vector<std::string> trusted, bool private_swarm, std::string key = "k") {
  Result<KeyPolicy> p = KeyPolicy::Make(std::move(key), trusted, private_swarm);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : KeyPolicy();
}

TEST(KeyPolicyTest, APublicSwarmsNodesGetNoKey) {
  KeyPolicy p = Make({}, false);
  EXPECT_EQ(p.KeyFor("10.0.0.1", 8000), "");
  EXPECT_EQ(p.KeyFor("127.0.0.1", 8000), "");
  EXPECT_TRUE(p.Withholds("10.0.0.1", 8000));
}

TEST(KeyPolicyTest, NamedNodesGetTheKeyAtThatAddressOnly) {
  KeyPolicy p = Make({"10.0.0.1:8000", "[::1]:9000"}, false);
  EXPECT_EQ(p.KeyFor("10.0.0.1", 8000), "k");
  EXPECT_EQ(p.KeyFor("10.0.0.1", 8001), "");  // another port is another node
  EXPECT_EQ(p.KeyFor("10.0.0.2", 8000), "");
  EXPECT_EQ(p.KeyFor("0:0::1", 9000), "k");  // any spelling of the address
  EXPECT_EQ(p.KeyFor("::1", 8000), "");
  EXPECT_FALSE(p.Withholds("10.0.0.1", 8000));
}

TEST(KeyPolicyTest, ANamedHostStandsForItselfAndItsAddresses) {
  KeyPolicy p = Make({"localhost:8000"}, false);
  EXPECT_EQ(p.KeyFor("LocalHost", 8000), "k");
  EXPECT_EQ(p.KeyFor("127.0.0.1", 8000), "k");
  EXPECT_EQ(p.KeyFor("127.0.0.1", 8001), "");
  EXPECT_EQ(p.KeyFor("otherhost", 8000), "");
}

TEST(KeyPolicyTest, APrivateSwarmsNodesGetTheKey) {
  KeyPolicy p = Make({}, true);
  EXPECT_EQ(p.KeyFor("10.0.0.1", 8000), "k");
  EXPECT_FALSE(p.Withholds("10.0.0.1", 8000));
}

TEST(KeyPolicyTest, WithoutAKeyNothingIsWithheld) {
  KeyPolicy p = Make({"10.0.0.1:8000"}, true, "");
  EXPECT_EQ(p.KeyFor("10.0.0.1", 8000), "");
  EXPECT_FALSE(p.Withholds("10.0.0.2", 8000));
  EXPECT_FALSE(KeyPolicy().Withholds("10.0.0.2", 8000));
}

TEST(KeyPolicyTest, ABadEntryIsNamed) {
  for (const char* bad : {"10.0.0.1", "10.0.0.1:0", ":8000", "[::1:8000"}) {
    Result<KeyPolicy> p = KeyPolicy::Make("k", {bad}, false);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(p.status().message().find("trusted_nodes"), std::string::npos) << p.status().message();
  }
}

TEST(KeyPolicyTest, ARefusalOfAWithheldKeySaysHowToSendIt) {
  KeyPolicy p = Make({"10.0.0.1:8000"}, false);
  const Status refused = Status::InvalidArgument("HTTP 401: missing API key");
  Status s = p.ExplainRefusal("10.0.0.2", 8000, 401, refused);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);  // another node may serve this client
  for (const char* part : {"HTTP 401: missing API key", "withheld", "trusted_nodes", "--trusted-nodes",
                           "swarm_secret"}) {
    EXPECT_NE(s.message().find(part), std::string::npos) << part << " in " << s.message();
  }
  // The key went there, or the answer is another: the error stays as it was.
  EXPECT_EQ(p.ExplainRefusal("10.0.0.1", 8000, 401, refused).code(), Status::Code::kInvalidArgument);
  const Status busy = Status::Unavailable("HTTP 503: busy");
  EXPECT_EQ(p.ExplainRefusal("10.0.0.2", 8000, 503, busy).message(), busy.message());
}

}  // namespace
}  // namespace llamanet::client
