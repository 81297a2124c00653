// RateLimiter: a token bucket per source IP, like libtorrent's dos_blocker. Keyed by IP, not
// ip:port: a sender picks its port freely, so a per-endpoint key let one host multiply its
// rate by rotating ports. Bounded: at most `max_sources` buckets; full (idle) buckets are
// swept, and while the table is full of active sources a new source is refused, so a flood of
// spoofed addresses costs bounded memory. Time is passed in (ms).
// Not synchronized: owned by the node's loop.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace llamanet::dht {

// The defaults must carry a whole swarm that shares one IP (a local test swarm on 127.0.0.1,
// nodes behind one NAT), since requests and replies from every node there share a bucket. A
// node of a 20-node swarm at the default 10 s heartbeat receives from the other 19, per
// heartbeat: 3 publishes x (find_node + store) = 6 requests each, 4 swarm-view lookups of
// all_nodes x 2 pages = 8 each, and the replies to its own 3 publishes and 4 lookups
// (3 x 38 + 4 x 38): about 530 datagrams per 10 s, ~55/s, in bursts when its own publishes
// are answered. local_swarm_test measures exactly that swarm: 50/s on average and 172 in the
// busiest second of the busiest node (the bootstrap node). 500/s with a burst of 1000 leaves
// ~3x headroom on the busiest second and 10x on the average, also covers 5-node test swarms
// at 1 s heartbeats (~100/s), and still caps what one address can make a node do (replies to
// unproven addresses are small besides: node_core.h).
struct RateLimit {
  double per_second = 500;  // sustained datagrams per second from one source IP
  double burst = 1000;      // bucket size
  size_t max_sources = 4096;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit) : limit_(limit) {}

  // True when `source` (an IP) may send one more datagram at `now_ms` (and takes a token).
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
