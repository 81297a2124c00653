#include "dht/memory_network.h"

#include <algorithm>
#include <cassert>

namespace llamanet::dht {

class MemoryNetwork::MemoryTransport final : public Transport {
 public:
  MemoryTransport(MemoryNetwork& net, size_t slot) : net_(net), slot_(slot) {}
  Endpoint local_endpoint() const override { return net_.slots_[slot_].endpoint; }
  bool Send(const Endpoint& to, std::string_view datagram) override {
    net_.Enqueue(slot_, to, datagram);
    return true;
  }

 private:
  MemoryNetwork& net_;
  size_t slot_;
};

MemoryNetwork::MemoryNetwork(LinkModel link, uint64_t seed) : link_(link), rng_(seed) {}

MemoryNetwork::~MemoryNetwork() = default;

std::unique_ptr<Transport> MemoryNetwork::Attach(const Endpoint& endpoint, Host* host) {
  assert(by_endpoint_.count(endpoint) == 0);
  size_t slot = slots_.size();
  slots_.push_back(Slot{endpoint, host, false, kNever});
  by_endpoint_.emplace(endpoint, slot);
  return std::make_unique<MemoryTransport>(*this, slot);
}

void MemoryNetwork::SetDead(const Endpoint& endpoint, bool dead) {
  auto it = by_endpoint_.find(endpoint);
  if (it == by_endpoint_.end()) return;
  slots_[it->second].dead = dead;
  if (!dead) Schedule(it->second);
}

void MemoryNetwork::Reschedule(const Endpoint& endpoint) {
  auto it = by_endpoint_.find(endpoint);
  if (it != by_endpoint_.end()) Schedule(it->second);
}

void MemoryNetwork::Schedule(size_t slot) {
  Slot& s = slots_[slot];
  if (s.dead) return;
  const int64_t at = std::max(s.host->NextWakeupMs(), clock_.NowMs());
  if (at == kNever || at >= s.wakeup_ms) return;
  s.wakeup_ms = at;  // older, later wake-up events become stale
  events_.push(Event{at, seq_++, slot, false, {}, {}});
}

void MemoryNetwork::Enqueue(size_t from_slot, const Endpoint& to, std::string_view bytes) {
  if (slots_[from_slot].dead) return;
  if (tap_) tap_(slots_[from_slot].endpoint, to, bytes);
  auto it = by_endpoint_.find(to);
  if (it == by_endpoint_.end() || slots_[it->second].dead) {
    ++to_dead_;
    return;
  }
  if (link_.loss > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < link_.loss) {
    ++lost_;
    return;
  }
  int64_t delay = link_.latency_ms;
  if (link_.jitter_ms > 0) delay += std::uniform_int_distribution<int64_t>(0, link_.jitter_ms)(rng_);
  events_.push(Event{clock_.NowMs() + delay, seq_++, it->second, true, slots_[from_slot].endpoint, std::string(bytes)});
}

bool MemoryNetwork::RunOne(int64_t until_ms) {
  if (events_.empty() || events_.top().at_ms > until_ms) return false;
  Event ev = std::move(const_cast<Event&>(events_.top()));
  events_.pop();
  clock_.SetMs(std::max(clock_.NowMs(), ev.at_ms));
  Slot& s = slots_[ev.slot];
  if (ev.is_datagram) {
    if (s.dead) {
      ++to_dead_;
      return true;
    }
    ++delivered_;
    s.host->OnDatagram(ev.from, ev.bytes);
  } else {
    if (s.dead || s.wakeup_ms != ev.at_ms) return true;  // stale
    s.wakeup_ms = kNever;
    s.host->OnWakeup();
  }
  Schedule(ev.slot);
  return true;
}

void MemoryNetwork::RunUntil(int64_t t_ms) {
  while (RunOne(t_ms)) {
  }
  clock_.SetMs(std::max(clock_.NowMs(), t_ms));
}

bool MemoryNetwork::RunUntilTrue(const std::function<bool()>& done, int64_t limit_ms) {
  const int64_t until = clock_.NowMs() + limit_ms;
  while (!done()) {
    if (!RunOne(until)) {
      clock_.SetMs(std::max(clock_.NowMs(), until));
      return done();
    }
  }
  return true;
}

}  // namespace llamanet::dht
