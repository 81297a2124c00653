// The connection gate's counting and the request-head checks, without sockets or a node.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/connection_gate.h"
#include "http/request_head.h"

namespace llamanet::http {
namespace {

TEST(ConnectionGateTest, CapsConnectionsPerAddressAndInAll) {
  HttpLimits limits;
  limits.max_connections = 3;
  limits.max_connections_per_ip = 2;
  ConnectionGate gate(limits);
  std::vector<ConnectionGate::Ticket> held;
  held.push_back(gate.Admit("10.0.0.1"));
  held.push_back(gate.Admit("10.0.0.1"));
  EXPECT_EQ(held[0].refusal, 0);
  EXPECT_EQ(held[1].refusal, 0);
  EXPECT_EQ(gate.Admit("10.0.0.1").refusal, 429);
  held.push_back(gate.Admit("10.0.0.2"));
  EXPECT_EQ(held[2].refusal, 0);
  EXPECT_EQ(gate.Admit("10.0.0.3").refusal, 503);
  EXPECT_EQ(gate.open(), 3u);
  held.pop_back();  // a ticket that goes frees its place
  EXPECT_EQ(gate.open(), 2u);
  EXPECT_EQ(gate.Admit("10.0.0.3").refusal, 0);
  EXPECT_EQ(gate.open(), 2u) << "a temporary ticket is released at once";
}

TEST(RequestHeadTest, AcceptsOrdinaryHeads) {
  EXPECT_EQ(CheckHead("GET / HTTP/1.1\r\nHost: x", 100).status, 0);
  EXPECT_EQ(CheckHead("GET /v1/models?a=%ff HTTP/1.0", 100).status, 0);
  EXPECT_EQ(CheckHead("POST /generate HTTP/1.1\r\nContent-Length: 100\r\nX-Empty:", 100).status, 0);
  EXPECT_EQ(CheckHead("POST /generate HTTP/1.1\r\nTransfer-Encoding: chunked", 100).status, 0);
  EXPECT_EQ(CheckHead("GET / HTTP/1.1\r\nX-Opaque: caf\xc3\xa9\tok", 100).status, 0) << "obs-text and tabs are allowed";
}

TEST(RequestHeadTest, RefusesWhatParsersCouldReadDifferently) {
  struct Case {
    std::string head;
    int status;
  };
  const Case cases[] = {
      {"GET /\xff HTTP/1.1", 400},
      {"GET / x HTTP/1.1", 400},
      {"GET  / HTTP/1.1", 400},
      {"GET / HTTP/2.0", 400},
      {"GE\x01T / HTTP/1.1", 400},
      {"BREW / HTTP/1.1", 501},
      {"get / HTTP/1.1", 501},
      {"GET / HTTP/1.1\r\n folded: line", 400},
      {"GET / HTTP/1.1\r\nNo colon here", 400},
      {"GET / HTTP/1.1\r\n: empty name", 400},
      {"GET / HTTP/1.1\r\nSp ace: x", 400},
      {std::string("GET / HTTP/1.1\r\nX: a\0b", 26), 400},
      {"GET / HTTP/1.1\r\nX: a\x7f", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1x", 400},
      {"POST / HTTP/1.1\r\nContent-Length: -1", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 101", 413},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999", 400},
      {"POST / HTTP/1.1\r\nHost: x", 411},
  };
  for (const Case& c : cases) {
    HeadVerdict v = CheckHead(c.head, 100);
    EXPECT_EQ(v.status, c.status) << c.head;
    EXPECT_FALSE(v.message.empty()) << c.head;
    EXPECT_EQ(v.message.find('\xff'), std::string::npos) << "the request is echoed";
  }
}

}  // namespace
}  // namespace llamanet::http
