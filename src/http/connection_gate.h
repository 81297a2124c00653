// The front door of the HTTP server: what every connection passes before cpp-httplib parses a
// byte of it. It counts open connections (in all and per client address) and reads each
// request's head (request line and headers) itself, under a deadline and size limits, so that
// a client that trickles bytes, sends huge heads or opens hundreds of connections is answered
// with a clear error and cut off instead of holding a worker. Thread-safe.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace llamanet::http {

struct HttpLimits {
  size_t max_body_bytes = 4u << 20;        // 413 beyond, for every framing
  size_t max_header_bytes = 16u << 10;     // request line + header lines; 431 beyond
  size_t max_headers = 64;                 // header lines; 431 beyond
  std::chrono::milliseconds header_timeout{10000};  // to receive a whole head; 408 after
  std::chrono::milliseconds idle_timeout{5000};     // a kept-alive connection waits this long
  std::chrono::seconds read_timeout{30};   // one read of a body
  std::chrono::seconds write_timeout{60};  // one write of an answer
  size_t max_connections = 1024;           // open at once; 503 beyond
  size_t max_connections_per_ip = 128;     // open at once from one address; 429 beyond
};

// A connection's socket as cpp-httplib reads it, with a buffer that lives as long as the
// connection so that pipelined requests and the bytes read ahead with a head are never lost.
class GatedStream final : public httplib::Stream {
 public:
  GatedStream(socket_t sock, const HttpLimits& limits) : sock_(sock), limits_(limits) {}

  enum class Head {
    kReady,         // a whole head is buffered
    kClosed,        // the client went away (or sent nothing before the idle timeout)
    kTimeout,       // the head did not arrive whole before the deadline: 408
    kTooLarge,      // over max_header_bytes: 431
    kTooManyLines,  // over max_headers: 431
  };
  // Waits up to the idle timeout for a request to begin, then reads until its head is whole,
  // by `header_timeout` after it began. `stopping` is polled so that a stopping server is not
  // held.
  Head ReadHead(const std::atomic<bool>& stopping);
  // The buffered head's first line (for choosing an error shape); empty when none.
  std::string_view FirstLine() const;
  // After kReady: the head, without the blank line that ends it.
  std::string_view PendingHead() const { return std::string_view(buf_).substr(off_, head_bytes_); }

  bool is_readable() const override { return off_ < buf_.size(); }
  bool wait_readable() const override;
  bool wait_writable() const override;
  bool is_peer_alive() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return sock_; }
  time_t duration() const override;
  const char* buffered_data(size_t& size) const override;
  void consume_buffered(size_t size) override;

 private:
  // Reads what the socket has into the buffer, waiting at most `wait`. <0 error, 0 closed or
  // nothing before `wait`, >0 bytes.
  ssize_t Fill(std::chrono::milliseconds wait);
  void Compact();

  socket_t sock_;
  const HttpLimits& limits_;
  std::string buf_;
  size_t off_ = 0;         // bytes of buf_ already consumed
  size_t head_bytes_ = 0;  // after kReady: the head's length from off_
  const std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
};

// Counts open connections. Admit() either hands out a ticket (released on destruction) or
// says which cap refused the connection.
class ConnectionGate {
 public:
  explicit ConnectionGate(const HttpLimits& limits) : limits_(limits) {}

  class Ticket {
   public:
    // 0 when admitted; else the status to answer (429 per-address cap, 503 total cap).
    int refusal = 0;

    Ticket(ConnectionGate* gate, std::string ip) : gate_(gate), ip_(std::move(ip)) {}
    Ticket(Ticket&& other) noexcept : refusal(other.refusal), gate_(other.gate_), ip_(std::move(other.ip_)) {
      other.gate_ = nullptr;
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (gate_) gate_->Release(ip_);
    }

   private:
    ConnectionGate* gate_;
    std::string ip_;
  };

  Ticket Admit(const std::string& ip);
  size_t open() const;

 private:
  void Release(const std::string& ip);

  const HttpLimits& limits_;
  mutable std::mutex mu_;
  size_t open_ = 0;                                // guarded by mu_
  std::unordered_map<std::string, size_t> per_ip_;  // guarded by mu_
};

}  // namespace llamanet::http
