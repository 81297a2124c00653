#include "dht/rate_limiter.h"

#include <gtest/gtest.h>

namespace llamanet::dht {
namespace {

TEST(RateLimiterTest, AllowsABurstThenTheSustainedRate) {
  RateLimiter limiter({.per_second = 10, .burst = 5, .max_sources = 10});
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Allow("a", 0)) << i;
  EXPECT_FALSE(limiter.Allow("a", 0));
  EXPECT_TRUE(limiter.Allow("b", 0));  // per source
  EXPECT_FALSE(limiter.Allow("a", 99));
  EXPECT_TRUE(limiter.Allow("a", 100));  // one token per 100 ms
  EXPECT_FALSE(limiter.Allow("a", 100));
}

TEST(RateLimiterTest, BoundsTheSourcesItTracks) {
  RateLimiter limiter({.per_second = 10, .burst = 2, .max_sources = 3});
  for (std::string s : {"a", "b", "c"}) EXPECT_TRUE(limiter.Allow(s, 0));
  EXPECT_FALSE(limiter.Allow("d", 0));  // full of active sources
  EXPECT_EQ(limiter.tracked(), 3u);
  EXPECT_TRUE(limiter.Allow("d", 1000));  // the idle ones were swept
  EXPECT_EQ(limiter.tracked(), 1u);
}

}  // namespace
}  // namespace llamanet::dht
