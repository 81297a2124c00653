#include "dht/address_token.h"

#include <gtest/gtest.h>

namespace llamanet::dht {
namespace {

constexpr int64_t kPeriod = 300'000;

TEST(AddressTokensTest, ATokenProvesOnlyTheAddressItWasIssuedTo) {
  AddressTokens tokens(kPeriod, 0);
  const std::string token = tokens.Issue("203.0.113.5", 0);
  EXPECT_EQ(token.size(), AddressTokens::kTokenHexDigits);
  EXPECT_TRUE(tokens.Valid("203.0.113.5", token, 10));
  EXPECT_FALSE(tokens.Valid("203.0.113.6", token, 10));
  EXPECT_FALSE(tokens.Valid("203.0.113.5", "", 10));
  EXPECT_FALSE(tokens.Valid("203.0.113.5", std::string(32, '0'), 10));
  // Another node's secret: its tokens are worthless here.
  AddressTokens other(kPeriod, 0);
  EXPECT_FALSE(tokens.Valid("203.0.113.5", other.Issue("203.0.113.5", 0), 10));
}

TEST(AddressTokensTest, TokensLiveOneToTwoRotations) {
  AddressTokens tokens(kPeriod, 0);
  const std::string early = tokens.Issue("10.0.0.1", 0);
  const std::string late = tokens.Issue("10.0.0.1", kPeriod - 1);
  EXPECT_EQ(early, late);  // one secret per period
  EXPECT_TRUE(tokens.Valid("10.0.0.1", early, kPeriod + 10));      // the previous secret
  EXPECT_FALSE(tokens.Valid("10.0.0.1", early, 2 * kPeriod + 10));  // rotated out
  const std::string fresh = tokens.Issue("10.0.0.1", 2 * kPeriod + 10);
  EXPECT_NE(fresh, early);
  // After a long idle gap both secrets are new.
  EXPECT_FALSE(tokens.Valid("10.0.0.1", fresh, 10 * kPeriod));
}

TEST(TokenCacheTest, KeepsTheLatestTokenPerResponderAndForgetsTheOldest) {
  TokenCache cache(2);
  cache.Put("a:1", "t1");
  cache.Put("b:1", "t2");
  cache.Put("a:1", "t3");  // a refresh
  EXPECT_EQ(cache.Get("a:1"), "t3");
  cache.Put("c:1", "t4");  // b is the oldest now
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Get("b:1"), "");
  EXPECT_EQ(cache.Get("a:1"), "t3");
  EXPECT_EQ(cache.Get("c:1"), "t4");
}

}  // namespace
}  // namespace llamanet::dht
