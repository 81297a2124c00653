#include "swarm/peer_verifier.h"

#include <gtest/gtest.h>

#include "fake_peer.h"

namespace llamanet::swarm {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = PeerVerifier::Clock;

AddressPolicy LocalSwarm() { return AddressPolicy({"127.0.0.1"}, false); }

struct FakeClock {
  Clock::time_point now = Clock::now();
  std::function<Clock::time_point()> Fn() {
    return [this] { return now; };
  }
};

TEST(PeerVerifierTest, AcceptsAPeerThatProvesItsRecordsKeyAndAsksOnlyOnce) {
  FakePeer peer("n1");
  peer.Start();
  PeerVerifier v({}, LocalSwarm());
  Result<PeerTarget> t = v.Verify(peer.Record());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->ip, "127.0.0.1");
  EXPECT_EQ(t->port, peer.port());
  EXPECT_TRUE(v.Verify(peer.Record()).ok());
  EXPECT_EQ(peer.identity_probes.load(), 1);
  EXPECT_FALSE(v.Refused(peer.Record()));
}

TEST(PeerVerifierTest, RefusesAWrongIdentityAnotherKeyAndAnAddressThatNeverAnswers) {
  FakePeer liar("n1", "someone-else");
  liar.Start();
  PeerVerifier v({}, LocalSwarm());
  EXPECT_EQ(v.Verify(liar.Record()).status().message(), "identity answer names another node_id");
  EXPECT_TRUE(v.Refused(liar.Record()));

  FakePeer impostor("n2");
  impostor.Start();
  protocol::NodeRecord r = impostor.Record();
  r.pubkey = dht::IdentityKey::Generate().value().public_key_hex();  // the record's key is not the peer's
  EXPECT_EQ(v.Verify(r).status().message(), "identity answer has another key");

  SilentListener silent;
  protocol::NodeRecord black_hole = liar.Record();
  black_hole.node_id = "hole";
  black_hole.port = silent.port();
  auto t0 = Clock::now();
  EXPECT_EQ(v.Verify(black_hole).status().code(), Status::Code::kUnavailable);
  EXPECT_LT(Clock::now() - t0, milliseconds(1900));
  EXPECT_TRUE(v.Refused(black_hole));
}

TEST(PeerVerifierTest, UnsignedRecordsNeedInfoToNameTheirIdAndNeverPassWhenSignedAreRequired) {
  FakePeer python("py1");
  python.Start();
  PeerVerifier v({}, LocalSwarm());
  EXPECT_TRUE(v.Verify(python.Record("m", false)).ok());
  EXPECT_EQ(python.info_probes.load(), 1);
  EXPECT_EQ(python.identity_probes.load(), 0);

  FakePeer other("py2", "py3");
  other.Start();
  EXPECT_FALSE(v.Verify(other.Record("m", false)).ok());

  PeerVerifierOptions strict;
  strict.require_signed = true;
  PeerVerifier signed_only(strict, LocalSwarm());
  EXPECT_EQ(signed_only.Verify(python.Record("m", false)).status().message(), "unsigned record");
  EXPECT_EQ(python.info_probes.load(), 1);  // not even asked
}

TEST(PeerVerifierTest, AppliesTheAddressPolicyBeforeAnyProbe) {
  FakePeer peer("n1");
  peer.Start();
  PeerVerifier lan({}, AddressPolicy({"10.0.0.5"}, false));
  Result<PeerTarget> t = lan.Verify(peer.Record());
  EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(t.status().message().find("loopback"), std::string::npos);
  EXPECT_EQ(peer.identity_probes.load(), 0);
  // Names are resolved once and the policy applies to what they resolve to.
  protocol::NodeRecord named = peer.Record();
  named.ip = "localhost";
  EXPECT_FALSE(lan.Verify(named).ok());
  EXPECT_EQ(peer.identity_probes.load(), 0);
  PeerVerifier local({}, LocalSwarm());
  Result<PeerTarget> resolved = local.Verify(named);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(ClassifyAddress(resolved->ip), AddressKind::kLoopback);
}

TEST(PeerVerifierTest, CachesSuccessAndFailureForTheirTtlsPerAddressAndKey) {
  FakePeer peer("n1");
  peer.Start();
  FakeClock clock;
  PeerVerifierOptions o;
  o.success_ttl = seconds(300);
  o.failure_ttl = seconds(10);
  PeerVerifier v(o, LocalSwarm(), clock.Fn());
  ASSERT_TRUE(v.Verify(peer.Record()).ok());
  clock.now += seconds(299);
  ASSERT_TRUE(v.Verify(peer.Record()).ok());
  EXPECT_EQ(peer.identity_probes.load(), 1);
  clock.now += seconds(2);
  ASSERT_TRUE(v.Verify(peer.Record()).ok());
  EXPECT_EQ(peer.identity_probes.load(), 2);
  // Another port for the same id is another entry.
  protocol::NodeRecord moved = peer.Record();
  moved.port = SilentListener().port();  // closed again at once: connection refused
  EXPECT_FALSE(v.Verify(moved).ok());
  EXPECT_TRUE(v.Refused(moved));
  EXPECT_FALSE(v.Refused(peer.Record()));
  clock.now += seconds(11);
  EXPECT_FALSE(v.Refused(moved));  // asked again on its next use
}

TEST(PeerVerifierTest, ADownPeerIsRefusedUntilARecheckFindsItAnswering) {
  FakePeer peer("n1");
  peer.Start();
  PeerVerifierOptions o;
  o.probe_timeout = milliseconds(300);
  PeerVerifier v(o, LocalSwarm());
  ASSERT_TRUE(v.Verify(peer.Record()).ok());
  peer.Freeze(true);
  v.MarkDown(peer.Record());
  EXPECT_TRUE(v.Refused(peer.Record()));
  EXPECT_EQ(v.Verify(peer.Record()).status().code(), Status::Code::kUnavailable);
  v.RecheckDown();  // still frozen
  EXPECT_TRUE(v.Refused(peer.Record()));
  peer.Freeze(false);
  v.RecheckDown();
  EXPECT_FALSE(v.Refused(peer.Record()));
  EXPECT_TRUE(v.Verify(peer.Record()).ok());
}

TEST(PeerVerifierTest, TheBackgroundRecheckClearsADownPeer) {
  FakePeer peer("n1");
  peer.Start();
  PeerVerifierOptions o;
  o.recheck_interval = milliseconds(50);
  PeerVerifier v(o, LocalSwarm());
  v.Start();
  v.MarkDown(peer.Record());
  EXPECT_TRUE(WaitFor([&] { return !v.Refused(peer.Record()); }, seconds(5)));
  v.Stop();
}

TEST(PeerVerifierTest, RemembersAtMostMaxEntries) {
  FakeClock clock;
  PeerVerifierOptions o;
  o.max_entries = 4;
  PeerVerifier v(o, AddressPolicy({"10.0.0.5"}, false), clock.Fn());
  protocol::NodeRecord r;
  r.ip = "127.0.0.1";  // refused by the policy: no probe, a cached failure
  r.port = 9;
  for (int i = 0; i < 10; ++i) {
    r.node_id = "n" + std::to_string(i);
    EXPECT_FALSE(v.Verify(r).ok());
    clock.now += milliseconds(1);
  }
  int remembered = 0;
  for (int i = 0; i < 10; ++i) {
    r.node_id = "n" + std::to_string(i);
    remembered += v.Refused(r) ? 1 : 0;
  }
  EXPECT_EQ(remembered, 4);
  r.node_id = "n9";
  EXPECT_TRUE(v.Refused(r));  // the newest stay
}

}  // namespace
}  // namespace llamanet::swarm
