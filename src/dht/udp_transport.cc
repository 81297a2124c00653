#include "dht/udp_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace llamanet::dht {

namespace {

// sockaddr -> Endpoint; IPv4-mapped IPv6 addresses come back as plain IPv4 text.
Endpoint FromSockaddr(const sockaddr_storage& ss) {
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    return Endpoint{text, ntohs(a.sin_port)};
  }
  const auto& a6 = reinterpret_cast<const sockaddr_in6&>(ss);
  if (IN6_IS_ADDR_V4MAPPED(&a6.sin6_addr)) {
    inet_ntop(AF_INET, &a6.sin6_addr.s6_addr[12], text, sizeof text);
  } else {
    inet_ntop(AF_INET6, &a6.sin6_addr, text, sizeof text);
  }
  return Endpoint{text, ntohs(a6.sin6_port)};
}

// Endpoint -> sockaddr for a socket of `family`; false when the address cannot be reached.
bool ToSockaddr(const Endpoint& e, int family, sockaddr_storage* ss, socklen_t* len) {
  std::memset(ss, 0, sizeof *ss);
  in_addr v4{};
  in6_addr v6{};
  const bool is_v4 = inet_pton(AF_INET, e.ip.c_str(), &v4) == 1;
  if (!is_v4 && inet_pton(AF_INET6, e.ip.c_str(), &v6) != 1) return false;
  if (family == AF_INET) {
    if (!is_v4) return false;
    auto* a = reinterpret_cast<sockaddr_in*>(ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(e.port);
    a->sin_addr = v4;
    *len = sizeof *a;
    return true;
  }
  auto* a6 = reinterpret_cast<sockaddr_in6*>(ss);
  a6->sin6_family = AF_INET6;
  a6->sin6_port = htons(e.port);
  if (is_v4) {
    a6->sin6_addr.s6_addr[10] = 0xff;
    a6->sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&a6->sin6_addr.s6_addr[12], &v4, 4);
  } else {
    a6->sin6_addr = v6;
  }
  *len = sizeof *a6;
  return true;
}

}  // namespace

Result<std::unique_ptr<UdpTransport>> UdpTransport::Bind(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* list = nullptr;
  const std::string port_text = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &list);
  if (rc != 0) return Status::IoError("cannot resolve bind address '" + host + "': " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(list, &freeaddrinfo);
  std::string last_error = "no address";
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    if (ai->ai_family == AF_INET6) {
      int off = 0;  // dual stack: IPv4 peers too
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      last_error = std::strerror(errno);
      ::close(fd);
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    return std::unique_ptr<UdpTransport>(new UdpTransport(fd, ai->ai_family, FromSockaddr(ss)));
  }
  return Status::IoError("cannot bind UDP " + host + ":" + port_text + ": " + last_error);
}

UdpTransport::~UdpTransport() { ::close(fd_); }

bool UdpTransport::Send(const Endpoint& to, std::string_view datagram) {
  sockaddr_storage ss;
  socklen_t len = 0;
  if (!ToSockaddr(to, family_, &ss, &len)) return false;
  ssize_t n = ::sendto(fd_, datagram.data(), datagram.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&ss), len);
  return n == static_cast<ssize_t>(datagram.size());
}

void UdpTransport::ReceiveReady(const DatagramHandler& handler, int max_datagrams) {
  std::vector<char> buffer(65536);
  for (int i = 0; i < max_datagrams; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0) return;  // EAGAIN (drained) or a transient error such as ECONNREFUSED
    handler(FromSockaddr(ss), std::string_view(buffer.data(), static_cast<size_t>(n)));
  }
}

}  // namespace llamanet::dht
