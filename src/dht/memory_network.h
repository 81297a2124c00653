// MemoryNetwork: an in-memory datagram network on a virtual clock, so that one process can run
// thousands of DHT nodes with the very code that runs on UDP. Datagrams take `latency_ms`
// (plus uniform jitter) one way, are lost with probability `loss`, and vanish to or from a
// dead host. Hosts also get timer wake-ups: the network asks each host when it next needs to
// run (NextWakeupMs) after every event it delivers, and after Reschedule().
//
// RunUntil/RunFor execute events in time order, moving the clock to each event (virtual time:
// nothing sleeps). Deterministic for a given seed. Not synchronized: one thread drives the
// network and every host attached to it.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "dht/clock.h"
#include "dht/transport.h"

namespace llamanet::dht {

struct LinkModel {
  int64_t latency_ms = 20;  // one way
  int64_t jitter_ms = 0;    // added uniformly in [0, jitter_ms]
  double loss = 0;          // probability that a datagram is lost
};

class MemoryNetwork {
 public:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  // What the network drives: a DHT node in a simulation (see simulated_swarm.h).
  class Host {
   public:
    virtual ~Host() = default;
    virtual void OnDatagram(const Endpoint& from, std::string_view datagram) = 0;
    virtual void OnWakeup() = 0;                // run due timers
    virtual int64_t NextWakeupMs() const = 0;  // kNever when idle
  };

  MemoryNetwork(LinkModel link, uint64_t seed);
  ~MemoryNetwork();

  ManualClock& clock() { return clock_; }
  const ManualClock& clock() const { return clock_; }
  const LinkModel& link() const { return link_; }
  void set_link(LinkModel link) { link_ = link; }

  // Attaches `host` (not owned; must outlive its attachment) at `endpoint`; the transport
  // sends from there. REQUIRES: the endpoint is not attached yet.
  std::unique_ptr<Transport> Attach(const Endpoint& endpoint, Host* host);
  // A dead host neither sends nor receives; its timers stop. Alive again: timers resume.
  void SetDead(const Endpoint& endpoint, bool dead);
  // Asks the host for its next wake-up again (call after acting on it from outside).
  void Reschedule(const Endpoint& endpoint);

  void RunUntil(int64_t t_ms);
  void RunFor(int64_t duration_ms) { RunUntil(clock_.NowMs() + duration_ms); }
  // Runs until `done()` holds (checked after each event) or `limit_ms` of virtual time passed;
  // returns done().
  bool RunUntilTrue(const std::function<bool()>& done, int64_t limit_ms);

  // Sees every datagram sent (before loss), for a benchmark's breakdown of the traffic.
  using Tap = std::function<void(const Endpoint& from, const Endpoint& to, std::string_view datagram)>;
  void SetTap(Tap tap) { tap_ = std::move(tap); }

  uint64_t delivered() const { return delivered_; }
  uint64_t lost() const { return lost_; }
  uint64_t to_dead() const { return to_dead_; }

 private:
  class MemoryTransport;
  struct Slot {
    Endpoint endpoint;
    Host* host = nullptr;
    bool dead = false;
    int64_t wakeup_ms = kNever;  // the pending wake-up event, if any
  };
  struct Event {
    int64_t at_ms;
    uint64_t seq;
    size_t slot;
    bool is_datagram;
    Endpoint from;
    std::string bytes;
    bool operator>(const Event& o) const { return at_ms != o.at_ms ? at_ms > o.at_ms : seq > o.seq; }
  };

  void Enqueue(size_t from_slot, const Endpoint& to, std::string_view bytes);
  void Schedule(size_t slot);
  bool RunOne(int64_t until_ms);

  LinkModel link_;
  std::mt19937_64 rng_;
  ManualClock clock_;
  std::vector<Slot> slots_;
  std::unordered_map<Endpoint, size_t, EndpointHash> by_endpoint_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t seq_ = 0;
  Tap tap_;
  uint64_t delivered_ = 0;
  uint64_t lost_ = 0;
  uint64_t to_dead_ = 0;
};

}  // namespace llamanet::dht
