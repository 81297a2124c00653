#include "protocol/rules.h"

#include <gtest/gtest.h>

#include <string>

namespace llamanet::protocol {
namespace {

TEST(RulesTest, AnyModel) {
  EXPECT_TRUE(IsAnyModel(""));
  EXPECT_TRUE(IsAnyModel("llamanet"));
  EXPECT_FALSE(IsAnyModel("tiny"));
  EXPECT_FALSE(IsAnyModel("LlamaNet"));
}

TEST(RulesTest, HeaderNames) {
  EXPECT_EQ(std::string(kForwardedHeader), "X-LlamaNet-Forwarded");
  EXPECT_EQ(std::string(kServedByHeader), "X-LlamaNet-Node");
}

TEST(RulesTest, HttpStatusCodes) {
  using Code = Status::Code;
  struct Case {
    int http;
    Code code;
    bool retry;
  } cases[] = {
      {200, Code::kOk, false},
      {204, Code::kOk, false},
      {301, Code::kOk, false},
      {400, Code::kInvalidArgument, false},
      {401, Code::kInvalidArgument, false},
      {403, Code::kInvalidArgument, false},
      {404, Code::kNotFound, false},
      {413, Code::kTooLarge, false},
      {422, Code::kInvalidArgument, false},
      {429, Code::kUnavailable, true},
      {500, Code::kUnavailable, true},
      {502, Code::kUnavailable, true},
      {503, Code::kUnavailable, true},
      {599, Code::kUnavailable, true},
      {0, Code::kMalformed, true},
      {100, Code::kMalformed, true},
      {600, Code::kMalformed, true},
      {-1, Code::kMalformed, true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CodeOfHttpStatus(c.http), c.code) << c.http;
    EXPECT_EQ(RetryableHttpStatus(c.http), c.retry) << c.http;
  }
}

TEST(RulesTest, TryAnotherNodeOnTheNodesFailuresOnly) {
  using Code = Status::Code;
  for (Code c : {Code::kUnavailable, Code::kDeadlineExceeded, Code::kIoError, Code::kMalformed}) {
    EXPECT_TRUE(TryAnotherNode(c)) << Status::CodeName(c);
  }
  for (Code c :
       {Code::kOk, Code::kInvalidArgument, Code::kNotFound, Code::kTooLarge, Code::kCancelled, Code::kInternal}) {
    EXPECT_FALSE(TryAnotherNode(c)) << Status::CodeName(c);
  }
}

}  // namespace
}  // namespace llamanet::protocol
