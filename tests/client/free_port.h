// A loopback port that was free a moment ago, for tests that must name a port before a
// process binds it (a node's DHT port) or need one with no listener at all.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace llamanet::testing {

// `type` is SOCK_STREAM or SOCK_DGRAM. 0 when no port could be had.
inline int FreeLoopbackPort(int type) {
  int fd = ::socket(AF_INET, type, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace llamanet::testing
