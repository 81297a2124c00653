#include "swarm/address_policy.h"

#include <gtest/gtest.h>

namespace llamanet::swarm {
namespace {

TEST(AddressPolicyTest, ClassifiesEveryRangeItRefuses) {
  struct Case {
    const char* ip;
    AddressKind kind;
  };
  const Case cases[] = {
      {"8.8.8.8", AddressKind::kOrdinary},
      {"10.1.2.3", AddressKind::kOrdinary},
      {"192.168.1.10", AddressKind::kOrdinary},
      {"172.16.0.1", AddressKind::kOrdinary},
      {"100.64.0.1", AddressKind::kOrdinary},
      {"127.0.0.1", AddressKind::kLoopback},
      {"127.255.255.254", AddressKind::kLoopback},
      {"169.254.1.1", AddressKind::kLinkLocal},
      {"169.254.169.254", AddressKind::kMetadata},
      {"100.100.100.200", AddressKind::kMetadata},
      {"224.0.0.1", AddressKind::kMulticast},
      {"239.255.255.250", AddressKind::kMulticast},
      {"255.255.255.255", AddressKind::kMulticast},
      {"0.0.0.0", AddressKind::kUnspecified},
      {"0.1.2.3", AddressKind::kUnspecified},
      {"2001:db8::1", AddressKind::kOrdinary},
      {"fd12:3456::1", AddressKind::kOrdinary},
      {"::1", AddressKind::kLoopback},
      {"::", AddressKind::kUnspecified},
      {"fe80::1", AddressKind::kLinkLocal},
      {"febf::1", AddressKind::kLinkLocal},
      {"fec0::1", AddressKind::kOrdinary},
      {"ff02::1", AddressKind::kMulticast},
      {"fd00:ec2::254", AddressKind::kMetadata},
      {"::ffff:127.0.0.1", AddressKind::kLoopback},
      {"::ffff:169.254.169.254", AddressKind::kMetadata},
      {"::ffff:8.8.8.8", AddressKind::kOrdinary},
      {"64:ff9b::a9fe:a9fe", AddressKind::kMetadata},
      {"localhost", AddressKind::kInvalid},
      {"fe80::1%eth0", AddressKind::kInvalid},
      {"[::1]", AddressKind::kInvalid},
      {"", AddressKind::kInvalid},
      {"1.2.3.4.5", AddressKind::kInvalid},
  };
  for (const Case& c : cases) EXPECT_EQ(ClassifyAddress(c.ip), c.kind) << c.ip;
}

TEST(AddressPolicyTest, RefusesPrivateKindsUnlessThisNodeAdvertisesOneOrTheyAreAllowed) {
  AddressPolicy lan({"10.0.0.5"}, false);
  EXPECT_TRUE(lan.Check("10.0.0.6").ok());
  EXPECT_TRUE(lan.Check("203.0.113.7").ok());
  for (const char* ip : {"127.0.0.1", "::1", "169.254.3.4", "fe80::1", "224.0.0.1", "ff02::1", "0.0.0.0", "::",
                         "169.254.169.254", "fd00:ec2::254", "not-an-ip"}) {
    Status s = lan.Check(ip);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << ip;
  }
  EXPECT_NE(lan.Check("127.0.0.1").message().find("loopback"), std::string::npos);

  // A swarm on one machine: loopback peers are fine, the rest is still refused.
  AddressPolicy local({"127.0.0.1"}, false);
  EXPECT_TRUE(local.Check("127.0.0.1").ok());
  EXPECT_TRUE(local.Check("127.0.0.2").ok());
  EXPECT_FALSE(local.Check("169.254.3.4").ok());
  EXPECT_FALSE(local.Check("224.0.0.1").ok());
  // A name this node advertises is resolved to see its kind.
  EXPECT_TRUE(AddressPolicy({"localhost"}, false).Check("127.0.0.1").ok());

  // A node on a link-local address still never forwards to the metadata service.
  AddressPolicy link({"169.254.10.10"}, false);
  EXPECT_TRUE(link.Check("169.254.10.11").ok());
  EXPECT_FALSE(link.Check("169.254.169.254").ok());

  AddressPolicy open({"10.0.0.5"}, true);
  for (const char* ip : {"127.0.0.1", "::1", "169.254.3.4", "169.254.169.254", "fd00:ec2::254", "ff02::1"}) {
    EXPECT_TRUE(open.Check(ip).ok()) << ip;
  }
  EXPECT_FALSE(open.Check("not-an-ip").ok());
}

TEST(AddressPolicyTest, ResolveHostKeepsNumbersAndResolvesNames) {
  EXPECT_EQ(ResolveHost("10.1.2.3").value(), "10.1.2.3");
  EXPECT_EQ(ResolveHost("::1").value(), "::1");
  Result<std::string> local = ResolveHost("localhost");
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ(ClassifyAddress(*local), AddressKind::kLoopback);
  EXPECT_EQ(ResolveHost("").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(ResolveHost(std::string(300, 'a')).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(ResolveHost("no-such-host.invalid").status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace llamanet::swarm
