// The fake Engine that engine.h allows for the layers above it: no model, a generation that
// takes as long as a test says (a long prompt, slow tokens) and that counts how often a
// generation was cancelled. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"

namespace llamanet::swarm {

class FakeEngine final : public engine::Engine {
 public:
  struct Options {
    std::string model = "fake";
    std::chrono::milliseconds prompt_time{0};  // before the first token
    int32_t tokens = 4;
    std::chrono::milliseconds token_time{5};
    int32_t slots = 4;
  };

  explicit FakeEngine(Options options) : options_(std::move(options)) {}
  ~FakeEngine() override { Shutdown(); }

  Result<std::shared_ptr<engine::GenerationStream>> Submit(engine::GenerationRequest request) override {
    auto stream = std::make_shared<engine::GenerationStream>();
    ++submitted;
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Unavailable("stopping");
    if (request.conversation != 0) conversations_.insert(request.conversation);
    threads_.emplace_back([this, stream] { Generate(*stream); });
    return stream;
  }

  engine::ModelInfo Model() const override {
    engine::ModelInfo m;
    m.name = options_.model;
    m.n_ctx = 512;
    m.n_slots = options_.slots;
    return m;
  }

  engine::EngineMetrics Metrics() const override {
    engine::EngineMetrics m;
    m.slots_total = options_.slots;
    return m;
  }

  // A conversation it served counts as cached whole (kCachedTokens), as a real engine's would
  // until evicted.
  static constexpr int32_t kCachedTokens = 64;
  int32_t CachedTokensFor(uint64_t conversation) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return conversations_.count(conversation) ? kCachedTokens : 0;
  }

  void Shutdown() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

  std::atomic<int> submitted{0};
  std::atomic<int> cancelled{0};

 private:
  // Waits `d`, in small steps; false when the generation was cancelled (or the engine stops).
  bool Pass(engine::GenerationStream& s, std::chrono::milliseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      if (s.cancelled() || stopping()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return !s.cancelled() && !stopping();
  }

  bool stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }

  void Generate(engine::GenerationStream& s) {
    engine::GenerationResult r;
    r.prompt_tokens = 3;
    bool ok = Pass(s, options_.prompt_time);
    for (int32_t i = 0; ok && i < options_.tokens; ++i) {
      s.Emit(" tok", i + 1);
      r.completion_tokens = i + 1;
      ok = i + 1 == options_.tokens || Pass(s, options_.token_time);
    }
    if (ok) {
      r.finish_reason = engine::FinishReason::kLength;
    } else {
      ++cancelled;
      r.finish_reason = engine::FinishReason::kCancelled;
      r.error = Status::Cancelled("cancelled");
    }
    s.Finish(r);
  }

  const Options options_;
  mutable std::mutex mu_;
  bool stopping_ = false;              // guarded by mu_
  std::set<uint64_t> conversations_;   // guarded by mu_
  std::vector<std::thread> threads_;  // guarded by mu_
};

}  // namespace llamanet::swarm
