#include "swarm/forward_auth.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace llamanet::swarm {
namespace {

struct FakeTime {
  int64_t now = 1'700'000'000;
  std::function<int64_t()> Clock() {
    return [this] { return now; };
  }
};

TEST(ForwardAuthTest, AcceptsItsOwnCredentialOnceAndNothingAltered) {
  FakeTime t;
  ForwardAuth sender("s3cret", {}, t.Clock());
  ForwardAuth receiver("s3cret", {}, t.Clock());
  const std::string body = R"({"model":"m","prompt":"hi"})";
  std::string cred = sender.Credential("POST", "/v1/completions", body);
  ASSERT_EQ(std::count(cred.begin(), cred.end(), '.'), 2);
  EXPECT_EQ(cred.substr(0, cred.find('.')), std::to_string(t.now));

  EXPECT_FALSE(receiver.Accept("POST", "/v1/completions", body + " ", cred));
  EXPECT_FALSE(receiver.Accept("POST", "/v1/chat/completions", body, cred));
  EXPECT_FALSE(receiver.Accept("GET", "/v1/completions", body, cred));
  EXPECT_FALSE(ForwardAuth("other", {}, t.Clock()).Accept("POST", "/v1/completions", body, cred));
  EXPECT_TRUE(receiver.Accept("POST", "/v1/completions", body, cred));
  // A replay of the same credential, however soon.
  EXPECT_FALSE(receiver.Accept("POST", "/v1/completions", body, cred));
  // A fresh one for the same request passes.
  EXPECT_TRUE(receiver.Accept("POST", "/v1/completions", body, sender.Credential("POST", "/v1/completions", body)));
}

TEST(ForwardAuthTest, RefusesCredentialsOutsideTheClockWindow) {
  FakeTime sender_time, receiver_time;
  ForwardAuth sender("k", {}, sender_time.Clock());
  ForwardAuth receiver("k", {}, receiver_time.Clock());
  sender_time.now = receiver_time.now - 61;
  EXPECT_FALSE(receiver.Accept("POST", "/p", "", sender.Credential("POST", "/p", "")));  // expired
  sender_time.now = receiver_time.now + 61;
  EXPECT_FALSE(receiver.Accept("POST", "/p", "", sender.Credential("POST", "/p", "")));  // from the future
  sender_time.now = receiver_time.now - 59;
  EXPECT_TRUE(receiver.Accept("POST", "/p", "", sender.Credential("POST", "/p", "")));
  sender_time.now = receiver_time.now + 59;
  EXPECT_TRUE(receiver.Accept("POST", "/p", "", sender.Credential("POST", "/p", "")));
}

TEST(ForwardAuthTest, RefusesMalformedHeaders) {
  FakeTime t;
  ForwardAuth auth("k", {}, t.Clock());
  std::string good = auth.Credential("POST", "/p", "");
  std::string nonce = good.substr(good.find('.') + 1, 32);
  for (const std::string& h :
       {std::string(), std::string("."), std::string(".."), std::string("abc"), "x" + good.substr(good.find('.')),
        "-1" + good.substr(good.find('.')), std::string(20, '9') + good.substr(good.find('.')),
        std::to_string(t.now) + ".short." + std::string(64, 'a'), std::to_string(t.now) + "." + nonce + ".zz",
        good + ".extra", good.substr(0, good.size() - 1)}) {
    EXPECT_FALSE(auth.Accept("POST", "/p", "", h)) << h;
  }
  EXPECT_TRUE(auth.Accept("POST", "/p", "", good));
}

TEST(ForwardAuthTest, RemembersNoncesForTheWindowOnlyAndWithinItsBound) {
  FakeTime t;
  ForwardAuthOptions o;
  o.max_remembered_nonces = 3;
  ForwardAuth auth("k", o, t.Clock());
  std::string first = auth.Credential("POST", "/p", "");
  EXPECT_TRUE(auth.Accept("POST", "/p", "", first));
  EXPECT_TRUE(auth.Accept("POST", "/p", "", auth.Credential("POST", "/p", "")));
  EXPECT_TRUE(auth.Accept("POST", "/p", "", auth.Credential("POST", "/p", "")));
  // Full: refused rather than forgetting a nonce that could still be replayed.
  EXPECT_FALSE(auth.Accept("POST", "/p", "", auth.Credential("POST", "/p", "")));
  // Once the window has passed, the old nonces are forgotten (and their credentials expired).
  t.now += 61;
  EXPECT_TRUE(auth.Accept("POST", "/p", "", auth.Credential("POST", "/p", "")));
  EXPECT_FALSE(auth.Accept("POST", "/p", "", first));
}

}  // namespace
}  // namespace llamanet::swarm
