#include "http/connection_gate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>


namespace llamanet::http {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kReadChunk = 16 << 10;
constexpr auto kStopPoll = std::chrono::milliseconds(100);

// poll() for one event, retried on EINTR. >0 ready, 0 timeout, <0 error.
int PollOne(socket_t sock, short events, std::chrono::milliseconds wait) {
  pollfd p{sock, events, 0};
  int timeout = static_cast<int>(std::clamp<int64_t>(wait.count(), 0, INT32_MAX));
  while (true) {
    int rc = ::poll(&p, 1, timeout);
    if (rc < 0 && errno == EINTR) continue;
    if (rc > 0 && (p.revents & (POLLERR | POLLNVAL))) return -1;
    return rc;
  }
}

std::chrono::milliseconds Until(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

void AddressOf(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  }
  ip = text;
}

}  // namespace

ssize_t GatedStream::Fill(std::chrono::milliseconds wait) {
  int ready = PollOne(sock_, POLLIN, wait);
  if (ready <= 0) return ready;
  Compact();
  size_t old = buf_.size();
  buf_.resize(old + kReadChunk);
  ssize_t n;
  do {
    n = ::recv(sock_, buf_.data() + old, kReadChunk, 0);
  } while (n < 0 && errno == EINTR);
  buf_.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
  return n == 0 ? -1 : n;  // an orderly close reads as an error: nothing more will come
}

void GatedStream::Compact() {
  if (off_ == 0) return;
  buf_.erase(0, off_);
  off_ = 0;
}

GatedStream::Head GatedStream::ReadHead(const std::atomic<bool>& stopping) {
  // A request begins with its first byte; until then the connection is idle.
  auto idle_until = Clock::now() + limits_.idle_timeout;
  while (!is_readable()) {
    if (stopping || Clock::now() >= idle_until) return Head::kClosed;
    ssize_t n = Fill(std::min(kStopPoll, Until(idle_until)));
    if (n < 0) return Head::kClosed;
  }
  const auto deadline = Clock::now() + limits_.header_timeout;
  size_t scanned = 0;  // bytes after off_ already searched for the end of the head
  while (true) {
    // Empty lines before a request line are allowed (RFC 9112 section 2.2).
    while (off_ < buf_.size() && (buf_[off_] == '\r' || buf_[off_] == '\n') && scanned == 0) ++off_;
    std::string_view pending(buf_.data() + off_, buf_.size() - off_);
    size_t from = scanned > 3 ? scanned - 3 : 0;
    size_t end = std::min(pending.find("\r\n\r\n", from), pending.find("\n\n", from));
    if (end != std::string_view::npos) {
      std::string_view head = pending.substr(0, end);
      if (head.size() > limits_.max_header_bytes) return Head::kTooLarge;
      // Lines after the request line are headers (a folded continuation counts as one too).
      size_t lines = static_cast<size_t>(std::count(head.begin(), head.end(), '\n'));
      if (lines > limits_.max_headers) return Head::kTooManyLines;
      head_bytes_ = end;
      return Head::kReady;
    }
    if (pending.size() > limits_.max_header_bytes + 4) return Head::kTooLarge;
    if (static_cast<size_t>(std::count(pending.begin(), pending.end(), '\n')) > limits_.max_headers + 1) {
      return Head::kTooManyLines;
    }
    scanned = pending.size();
    if (Clock::now() >= deadline) return Head::kTimeout;
    if (stopping) return Head::kClosed;
    ssize_t n = Fill(std::min(kStopPoll, Until(deadline)));
    if (n < 0) return Head::kClosed;
  }
}

std::string_view GatedStream::FirstLine() const {
  std::string_view pending(buf_.data() + off_, buf_.size() - off_);
  return pending.substr(0, std::min(pending.find('\n'), size_t{256}));
}

bool GatedStream::wait_readable() const {
  if (is_readable()) return true;
  return PollOne(sock_, POLLIN, limits_.read_timeout) > 0;
}

bool GatedStream::wait_writable() const { return PollOne(sock_, POLLOUT, limits_.write_timeout) > 0; }

bool GatedStream::is_peer_alive() const {
  pollfd p{sock_, POLLIN, 0};
  if (::poll(&p, 1, 0) < 0) return false;
  if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return false;
  if (p.revents & POLLIN) {
    char c;
    ssize_t n = ::recv(sock_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
  }
  return true;
}

ssize_t GatedStream::read(char* ptr, size_t size) {
  if (is_readable()) {
    size_t n = std::min(size, buf_.size() - off_);
    std::memcpy(ptr, buf_.data() + off_, n);
    off_ += n;
    if (off_ == buf_.size()) {
      buf_.clear();
      off_ = 0;
    }
    return static_cast<ssize_t>(n);
  }
  if (!wait_readable()) {
    error_ = httplib::Error::Timeout;
    return -1;
  }
  ssize_t n;
  do {
    n = ::recv(sock_, ptr, size, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) error_ = n == 0 ? httplib::Error::ConnectionClosed : httplib::Error::Read;
  return n;
}

ssize_t GatedStream::write(const char* ptr, size_t size) {
  if (!wait_writable()) return -1;
  ssize_t n;
  do {
    n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

void GatedStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) AddressOf(addr, ip, port);
}

void GatedStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) AddressOf(addr, ip, port);
}

time_t GatedStream::duration() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - opened_).count();
}

const char* GatedStream::buffered_data(size_t& size) const {
  size = buf_.size() - off_;
  return size ? buf_.data() + off_ : nullptr;
}

void GatedStream::consume_buffered(size_t size) {
  off_ = std::min(buf_.size(), off_ + size);
  if (off_ == buf_.size()) {
    buf_.clear();
    off_ = 0;
  }
}

ConnectionGate::Ticket ConnectionGate::Admit(const std::string& ip) {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ >= limits_.max_connections) {
    Ticket refused(nullptr, ip);
    refused.refusal = 503;
    return refused;
  }
  size_t& mine = per_ip_[ip];
  if (mine >= limits_.max_connections_per_ip) {
    if (mine == 0) per_ip_.erase(ip);
    Ticket refused(nullptr, ip);
    refused.refusal = 429;
    return refused;
  }
  ++mine;
  ++open_;
  return Ticket(this, ip);
}

size_t ConnectionGate::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

void ConnectionGate::Release(const std::string& ip) {
  std::lock_guard<std::mutex> lock(mu_);
  --open_;
  auto it = per_ip_.find(ip);
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

}  // namespace llamanet::http
