// Simulation benchmark of the DHT (issue 4, item 7): N nodes on the in-memory network with
// 20 ms one-way latency; lookups of random published node records; then 20% of the nodes killed
// at once without warning. Prints success rate, lookup time p50/p99 (virtual ms), hops,
// messages per lookup and heap per node, before and after the kill; then checks that the dead
// nodes' records expire while live nodes (heartbeating) stay findable, and that a key published
// by 50 nodes returns every live record. Virtual time: a 5,000-node run takes minutes of CPU,
// not of sleeping. Build Release for meaningful run times.
//
//   dht_sim_bench [--nodes N] [--lookups L] [--kill FRACTION] [--seed S] [--latency MS]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>

#include "dht/simulated_swarm.h"

namespace llamanet::dht {
namespace {

struct Flags {
  size_t nodes = 1000;
  size_t lookups = 1000;
  double kill = 0.2;
  uint64_t seed = 1;
  int64_t latency_ms = 20;
  double ttl_s = 30;
  int64_t heartbeat_ms = 10'000;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const char* v = argv[i + 1];
    if (name == "--nodes") f->nodes = std::strtoull(v, nullptr, 10);
    else if (name == "--lookups") f->lookups = std::strtoull(v, nullptr, 10);
    else if (name == "--kill") f->kill = std::strtod(v, nullptr);
    else if (name == "--seed") f->seed = std::strtoull(v, nullptr, 10);
    else if (name == "--latency") f->latency_ms = std::strtoll(v, nullptr, 10);
    else return false;
  }
  return argc % 2 == 1 && f->nodes >= 10 && f->kill >= 0 && f->kill < 1;
}

size_t HeapBytes() { return mallinfo2().uordblks; }

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void PrintRow(const char* phase, const LookupSummary& s) {
  std::printf("%-34s %7zu %8.2f%% %8.0f %8.0f %6.2f %8.1f\n", phase, s.lookups, 100.0 * s.success(), s.p50_ms, s.p99_ms,
              s.mean_hops, s.mean_messages);
}

class Bench {
 public:
  explicit Bench(const Flags& f) : f_(f), swarm_(LinkModel{.latency_ms = f.latency_ms}, f.seed), rng_(f.seed * 31 + 7) {}

  int Run() {
    const auto wall = std::chrono::steady_clock::now();
    std::printf("DHT simulation: %zu nodes, %lld ms one-way latency, k=20, alpha=3, record ttl %.0f s, heartbeat %lld s\n",
                f_.nodes, static_cast<long long>(f_.latency_ms), f_.ttl_s, static_cast<long long>(f_.heartbeat_ms / 1000));
    const size_t heap0 = HeapBytes();
    DhtOptions base;
    base.record_ttl_s = f_.ttl_s;
    if (Status s = swarm_.Grow(f_.nodes, base, std::max<size_t>(20, f_.nodes / 50), 200); !s.ok()) {
      std::fprintf(stderr, "grow: %s\n", s.ToString().c_str());
      return 1;
    }
    swarm_.Run(5000);
    const size_t published = swarm_.PublishAll();
    swarm_.SetHeartbeat(f_.heartbeat_ms);
    swarm_.Run(2000);
    const double heap_before = static_cast<double>(HeapBytes() - heap0) / static_cast<double>(f_.nodes);
    std::printf("joined and published: %zu/%zu records stored (%.1f s wall)\n\n", published, f_.nodes, Seconds(wall));

    std::vector<size_t> all(f_.nodes);
    for (size_t i = 0; i < f_.nodes; ++i) all[i] = i;
    std::printf("%-34s %7s %9s %8s %8s %6s %8s\n", "phase", "lookups", "success", "p50_ms", "p99_ms", "hops", "msgs");
    const LookupSummary before = swarm_.MeasureLookups(Pairs(all, all, f_.lookups), 2);
    PrintRow("before kill", before);
    const auto [multi_before, multi_expected_before] = MultiPublisher(all);

    std::shuffle(all.begin(), all.end(), rng_);
    const size_t dead_count = static_cast<size_t>(f_.kill * static_cast<double>(f_.nodes));
    std::vector<size_t> dead(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(dead_count));
    std::vector<size_t> live(all.begin() + static_cast<std::ptrdiff_t>(dead_count), all.end());
    for (size_t i : dead) swarm_.Kill(i);
    const int64_t killed_at = swarm_.network().clock().NowMs();
    const LookupSummary after = swarm_.MeasureLookups(Pairs(live, live, f_.lookups), 2);
    PrintRow("right after kill (live records)", after);
    const auto [multi_after, multi_expected_after] = MultiPublisher(live);
    const double heap_after = static_cast<double>(HeapBytes() - heap0) / static_cast<double>(f_.nodes);

    // Past the dead records' expiry (ttl after their last heartbeat, plus a sweep).
    swarm_.Run(static_cast<int64_t>(f_.ttl_s * 1000) + 6000 - (swarm_.network().clock().NowMs() - killed_at));
    const LookupSummary expired_dead = swarm_.MeasureLookups(Pairs(live, dead, std::min<size_t>(f_.lookups, 500)), 2);
    const LookupSummary expired_live = swarm_.MeasureLookups(Pairs(live, live, std::min<size_t>(f_.lookups, 500)), 2);
    PrintRow("after expiry (live records)", expired_live);
    std::printf("%-34s %7zu found %zu (should be 0)\n", "after expiry (dead records)", expired_dead.lookups,
                expired_dead.found);

    std::printf("\nkey with 50 publishers, gets returning every live record: before kill %zu/%zu, after kill %zu/%zu\n",
                multi_before, multi_expected_before, multi_after, multi_expected_after);
    std::printf("heap per node: %.1f KiB before kill, %.1f KiB after\n", heap_before / 1024, heap_after / 1024);
    std::printf("datagrams delivered: %llu, lost to dead nodes: %llu; wall time %.1f s\n",
                static_cast<unsigned long long>(swarm_.network().delivered()),
                static_cast<unsigned long long>(swarm_.network().to_dead()), Seconds(wall));
    const bool ok = before.success() == 1.0 && after.success() >= 0.99 && after.p50_ms <= 2 * before.p50_ms &&
                    expired_dead.found == 0 && multi_before == multi_expected_before && multi_after == multi_expected_after;
    std::printf("goals (100%% before; >=99%% and p50 <= 2x after; dead records expire; all records): %s\n",
                ok ? "MET" : "NOT MET");
    return ok ? 0 : 1;
  }

 private:
  std::vector<std::pair<size_t, size_t>> Pairs(const std::vector<size_t>& from, const std::vector<size_t>& to, size_t n) {
    std::vector<std::pair<size_t, size_t>> out;
    for (size_t i = 0; i < n; ++i) out.emplace_back(from[rng_() % from.size()], to[rng_() % to.size()]);
    return out;
  }

  // The first 50 of `candidates` publish under one key; 50 gets from random candidates.
  // Returns (gets that returned every live publisher's record, gets).
  std::pair<size_t, size_t> MultiPublisher(const std::vector<size_t>& candidates) {
    const std::string key = "model:bench-" + std::to_string(++multi_round_);
    std::set<std::string> expected;
    auto pending = std::make_shared<size_t>(0);
    for (size_t i = 0; i < 50 && i < candidates.size(); ++i) {
      const size_t p = candidates[i];
      expected.insert(swarm_.node(p).id().ToHex());
      ++*pending;
      swarm_.Publish(p, key, swarm_.NodeRecord(p), [pending](Result<size_t>) { --*pending; });
    }
    swarm_.RunUntil([&] { return *pending == 0; }, 30'000);
    auto complete = std::make_shared<size_t>(0);
    const size_t gets = 50;
    *pending = gets;
    for (size_t g = 0; g < gets; ++g) {
      swarm_.Get(candidates[rng_() % candidates.size()], key, [pending, complete, expected](Result<GetResult> r) {
        --*pending;
        if (!r.ok()) return;
        std::set<std::string> got;
        for (const auto& rec : r->records) got.insert(rec.node_id);
        if (std::includes(got.begin(), got.end(), expected.begin(), expected.end())) ++*complete;
      });
      swarm_.Run(2);
    }
    swarm_.RunUntil([&] { return *pending == 0; }, 30'000);
    return {*complete, gets};
  }

  const Flags f_;
  SimulatedSwarm swarm_;
  std::mt19937_64 rng_;
  int multi_round_ = 0;
};

}  // namespace
}  // namespace llamanet::dht

int main(int argc, char** argv) {
  llamanet::dht::Flags flags;
  if (!llamanet::dht::ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr, "usage: %s [--nodes N>=10] [--lookups L] [--kill FRACTION] [--seed S] [--latency MS]\n", argv[0]);
    return 2;
  }
  return llamanet::dht::Bench(flags).Run();
}
