#include "engine/stop_matcher.h"

#include <gtest/gtest.h>

namespace llamanet::engine {

TEST(StopMatcherTest, NoStopsPassesEverything) {
  StopMatcher m({});
  EXPECT_EQ(m.Push("abc"), "abc");
  EXPECT_EQ(m.Finish(), "");
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcherTest, CutsBeforeTheStopAndDropsTheRest) {
  StopMatcher m({"END"});
  EXPECT_EQ(m.Push("hello END world"), "hello ");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.Push("more"), "");
  EXPECT_EQ(m.Finish(), "");
}

TEST(StopMatcherTest, MatchesAStopSplitAcrossPieces) {
  StopMatcher m({"</s>"});
  EXPECT_EQ(m.Push("abc<"), "abc");
  EXPECT_EQ(m.Push("/"), "");
  EXPECT_EQ(m.Push("s"), "");
  EXPECT_EQ(m.Push(">tail"), "");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcherTest, ReleasesHeldTextWhenItCannotBecomeAStop) {
  StopMatcher m({"</s>"});
  EXPECT_EQ(m.Push("a</"), "a");
  EXPECT_EQ(m.Push("x"), "</x");
  EXPECT_EQ(m.Push("<"), "");
  EXPECT_EQ(m.Finish(), "<");
}

TEST(StopMatcherTest, EarliestOfSeveralStopsWins) {
  StopMatcher m({"world", "lo w"});
  EXPECT_EQ(m.Push("hello world"), "hel");
}

TEST(StopMatcherTest, EmptyStopStringsAreIgnored) {
  StopMatcher m({""});
  EXPECT_EQ(m.Push("abc"), "abc");
  EXPECT_FALSE(m.stopped());
}

}  // namespace llamanet::engine
