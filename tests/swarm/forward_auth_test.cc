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
  std::string cred = sender.Credential("POST", "/v1/completions", body, "n2");
  ASSERT_EQ(std::count(cred.begin(), cred.end(), '.'), 2);
  EXPECT_EQ(cred.substr(0, cred.find('.')), std::to_string(t.now));

  EXPECT_FALSE(receiver.Accept("POST", "/v1/completions", body + " ", "n2", cred));
  EXPECT_FALSE(receiver.Accept("POST", "/v1/chat/completions", body, "n2", cred));
  EXPECT_FALSE(receiver.Accept("GET", "/v1/completions", body, "n2", cred));
  EXPECT_FALSE(ForwardAuth("other", {}, t.Clock()).Accept("POST", "/v1/completions", body, "n2", cred));
  // Meant for n2: another node of the swarm does not take it.
  EXPECT_FALSE(receiver.Accept("POST", "/v1/completions", body, "n3", cred));
  EXPECT_TRUE(receiver.Accept("POST", "/v1/completions", body, "n2", cred));
  // A replay of the same credential, however soon.
  EXPECT_FALSE(receiver.Accept("POST", "/v1/completions", body, "n2", cred));
  // A fresh one for the same request passes.
  EXPECT_TRUE(receiver.Accept("POST", "/v1/completions", body, "n2", sender.Credential("POST", "/v1/completions", body, "n2")));
}

TEST(ForwardAuthTest, RefusesCredentialsOutsideTheClockWindow) {
  FakeTime sender_time, receiver_time;
  ForwardAuth sender("k", {}, sender_time.Clock());
  ForwardAuth receiver("k", {}, receiver_time.Clock());
  sender_time.now = receiver_time.now - 61;
  EXPECT_FALSE(receiver.Accept("POST", "/p", "", "n2", sender.Credential("POST", "/p", "", "n2")));  // expired
  sender_time.now = receiver_time.now + 61;
  EXPECT_FALSE(receiver.Accept("POST", "/p", "", "n2", sender.Credential("POST", "/p", "", "n2")));  // from the future
  sender_time.now = receiver_time.now - 59;
  EXPECT_TRUE(receiver.Accept("POST", "/p", "", "n2", sender.Credential("POST", "/p", "", "n2")));
  sender_time.now = receiver_time.now + 59;
  EXPECT_TRUE(receiver.Accept("POST", "/p", "", "n2", sender.Credential("POST", "/p", "", "n2")));
}

TEST(ForwardAuthTest, RefusesMalformedHeaders) {
  FakeTime t;
  ForwardAuth auth("k", {}, t.Clock());
  std::string good = auth.Credential("POST", "/p", "", "n2");
  std::string nonce = good.substr(good.find('.') + 1, 32);
  for (const std::string& h :
       {std::string(), std::string("."), std::string(".."), std::string("abc"), "x" + good.substr(good.find('.')),
        "-1" + good.substr(good.find('.')), std::string(20, '9') + good.substr(good.find('.')),
        std::to_string(t.now) + ".short." + std::string(64, 'a'), std::to_string(t.now) + "." + nonce + ".zz",
        good + ".extra", good.substr(0, good.size() - 1)}) {
    EXPECT_FALSE(auth.Accept("POST", "/p", "", "n2", h)) << h;
  }
  EXPECT_TRUE(auth.Accept("POST", "/p", "", "n2", good));
}

TEST(ForwardAuthTest, RemembersNoncesForTheWindowOnlyAndWithinItsBound) {
  FakeTime t;
  ForwardAuthOptions o;
  o.max_remembered_nonces = 3;
  ForwardAuth auth("k", o, t.Clock());
  std::string first = auth.Credential("POST", "/p", "", "n2");
  EXPECT_TRUE(auth.Accept("POST", "/p", "", "n2", first));
  EXPECT_TRUE(auth.Accept("POST", "/p", "", "n2", auth.Credential("POST", "/p", "", "n2")));
  EXPECT_TRUE(auth.Accept("POST", "/p", "", "n2", auth.Credential("POST", "/p", "", "n2")));
  // Full: refused rather than forgetting a nonce that could still be replayed.
  EXPECT_FALSE(auth.Accept("POST", "/p", "", "n2", auth.Credential("POST", "/p", "", "n2")));
  // Once the window has passed, the old nonces are forgotten (and their credentials expired).
  t.now += 61;
  EXPECT_TRUE(auth.Accept("POST", "/p", "", "n2", auth.Credential("POST", "/p", "", "n2")));
  EXPECT_FALSE(auth.Accept("POST", "/p", "", "n2", first));
}

}  // namespace
}  // namespace llamanet::swarm
