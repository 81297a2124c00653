#include "client/sse_parser.h"

#include <gtest/gtest.h>

namespace llamanet::client {
namespace {

std::vector<std::string> FeedAll(SseParser& p, const std::vector<std::string>& pieces, Status* last = nullptr) {
  std::vector<std::string> events;
  for (const std::string& piece : pieces) {
    Status s = p.Feed(piece, [&](std::string_view data) {
      events.emplace_back(data);
      return Status::Ok();
    });
    if (last) *last = s;
    if (!s.ok()) break;
  }
  return events;
}

TEST(SseParserTest, EventsSplitAnywhere) {
  const std::string stream = "data: {\"a\":1}\n\ndata: [DONE]\n\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p(1024);
    EXPECT_EQ(FeedAll(p, {stream.substr(0, cut), stream.substr(cut)}),
              (std::vector<std::string>{"{\"a\":1}", "[DONE]"}))
        << "cut at " << cut;
  }
}

TEST(SseParserTest, CrLfAndCrLineEnds) {
  SseParser p(1024);
  EXPECT_EQ(FeedAll(p, {"data: x\r\n\r\ndata: y\r\rdata:z\n\n"}), (std::vector<std::string>{"x", "y", "z"}));
}

TEST(SseParserTest, CrLfSplitBetweenPieces) {
  SseParser p(1024);
  EXPECT_EQ(FeedAll(p, {"data: x\r", "\n\r", "\n"}), (std::vector<std::string>{"x"}));
}

TEST(SseParserTest, JoinsDataLinesAndSkipsCommentsAndOtherFields) {
  SseParser p(1024);
  EXPECT_EQ(FeedAll(p, {": keep-alive\n\nevent: message\nid: 3\ndata: one\ndata: two\nretry: 5\n\n"}),
            (std::vector<std::string>{"one\ntwo"}));
}

TEST(SseParserTest, NoEventWithoutItsBlankLine) {
  SseParser p(1024);
  EXPECT_TRUE(FeedAll(p, {"data: unfinished\n"}).empty());
}

TEST(SseParserTest, OversizedEventIsRefused) {
  SseParser p(16);
  Status s;
  FeedAll(p, {"data: 0123456789", "0123456789\n\n"}, &s);
  EXPECT_EQ(s.code(), Status::Code::kTooLarge);
  SseParser lines(16);  // many short lines add up too
  FeedAll(lines, {"data: 12345\ndata: 12345\ndata: 12345\n"}, &s);
  EXPECT_EQ(s.code(), Status::Code::kTooLarge);
}

TEST(SseParserTest, CallbackErrorStopsTheParse) {
  SseParser p(1024);
  int calls = 0;
  Status s = p.Feed("data: a\n\ndata: b\n\n", [&](std::string_view) {
    ++calls;
    return Status::Malformed("no");
  });
  EXPECT_EQ(s.code(), Status::Code::kMalformed);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace llamanet::client
