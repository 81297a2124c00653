#include "swarm/host_facts.h"

#include <gtest/gtest.h>

#include <fstream>

namespace llamanet::swarm {
namespace {

TEST(HostFactsTest, Sha256OfFileMatchesTheStandardVector) {
  std::string path = ::testing::TempDir() + "/digest-abc";
  std::ofstream(path) << "abc";
  EXPECT_EQ(Sha256OfFile(path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256OfFile(path + ".missing"), "");
}

TEST(HostFactsTest, AdvertisedHostPrefersThePublicHostThenTheBindAddressThenTheRoute) {
  SwarmOptions c;
  c.host = "0.0.0.0";
  c.public_host = "node.example";
  EXPECT_EQ(AdvertisedHost(c), "node.example");
  c.public_host.clear();
  c.host = "192.0.2.7";
  EXPECT_EQ(AdvertisedHost(c), "192.0.2.7");
  c.host = "0.0.0.0";
  c.bootstrap_nodes = {"127.0.0.2:8001"};  // loopback: the route starts at a loopback address
  EXPECT_EQ(AdvertisedHost(c).rfind("127.", 0), 0u);
  c.bootstrap_nodes.clear();
  EXPECT_EQ(AdvertisedHost(c), "127.0.0.1");
}

TEST(HostFactsTest, WildcardAddresses) {
  EXPECT_TRUE(IsWildcard("0.0.0.0"));
  EXPECT_TRUE(IsWildcard("::"));
  EXPECT_FALSE(IsWildcard("127.0.0.1"));
}

}  // namespace
}  // namespace llamanet::swarm
