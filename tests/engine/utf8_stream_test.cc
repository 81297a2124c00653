#include "engine/utf8_stream.h"

#include <gtest/gtest.h>

namespace llamanet::engine {

TEST(Utf8StreamTest, PassesAsciiAndWholeCharacters) {
  Utf8Stream s;
  EXPECT_EQ(s.Push("héllo €"), "héllo €");
  EXPECT_EQ(s.Finish(), "");
}

TEST(Utf8StreamTest, HoldsBackASplitCharacterUntilItCompletes) {
  Utf8Stream s;
  const std::string euro = "\xE2\x82\xAC";
  EXPECT_EQ(s.Push("a" + euro.substr(0, 1)), "a");
  EXPECT_EQ(s.Push(euro.substr(1, 1)), "");
  EXPECT_EQ(s.Push(euro.substr(2)), euro);
}

TEST(Utf8StreamTest, ReplacesInvalidBytes) {
  Utf8Stream s;
  EXPECT_EQ(s.Push("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(s.Push("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(s.Push("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(Utf8StreamTest, BrokenSequenceFollowedByAsciiIsReplacedNotSwallowed) {
  Utf8Stream s;
  EXPECT_EQ(s.Push("\xE2\x82"), "");
  EXPECT_EQ(s.Push("x"), "\xEF\xBF\xBD\xEF\xBF\xBDx");
}

TEST(Utf8StreamTest, FinishReplacesAnIncompleteTail) {
  Utf8Stream s;
  EXPECT_EQ(s.Push("ok\xF0\x9F"), "ok");
  EXPECT_EQ(s.Finish(), "\xEF\xBF\xBD");
  EXPECT_EQ(s.Finish(), "");
}

TEST(Utf8StreamTest, ValidatorAgreesWithTheStream) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
}

}  // namespace llamanet::engine
