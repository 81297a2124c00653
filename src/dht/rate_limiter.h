// RateLimiter: a token bucket per source (the datagram's "ip:port"), like libtorrent's
// dos_blocker. Keyed by endpoint rather than IP so that a swarm of nodes on one host (tests,
// containers behind one NAT) is not throttled as one. Bounded: at most `max_sources` buckets;
// full (idle) buckets are swept, and while the table is full of active sources a new source is
// refused, so a flood of spoofed addresses costs bounded memory. Time is passed in (ms).
// Not synchronized: owned by the node's loop.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace llamanet::dht {

struct RateLimit {
  double per_second = 200;   // sustained datagrams per second from one source
  double burst = 400;        // bucket size
  size_t max_sources = 4096;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit) : limit_(limit) {}

  // True when `source` may send one more datagram at `now_ms` (and takes a token).
  bool Allow(const std::string& source, int64_t now_ms);
  // Forgets sources whose bucket has refilled: they are the same as unknown ones.
  void Sweep(int64_t now_ms);
  size_t tracked() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ms;
  };
  double Refill(const Bucket& b, int64_t now_ms) const;

  RateLimit limit_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace llamanet::dht
