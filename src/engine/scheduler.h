// Continuous batching over one llama_context with N sequences (slots). Its thread is the only
// one that calls llama_decode or touches the context: every step it puts the next token of
// every generating request, plus chunks of new prompts in what room is left, into one
// llama_decode, then samples each request's next token from that decode's logits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"
#include "engine/engine.h"
#include "engine/generation.h"
#include "engine/generation_stream.h"
#include "engine/llama_handles.h"
#include "engine/stop_matcher.h"
#include "engine/token_sampler.h"
#include "engine/utf8_stream.h"

namespace llamanet::engine {

using SteadyClock = std::chrono::steady_clock;

// A validated, tokenized request waiting for a slot.
struct PendingRequest {
  std::vector<llama_token> prompt;
  GenerationRequest request;  // max_tokens, stop, sampling, ignore_eos; prompt text unused
  uint32_t seed = 0;
  std::shared_ptr<GenerationStream> stream;
  SteadyClock::time_point submitted;
};

struct SchedulerOptions {
  int32_t n_slots = 4;
  int32_t n_batch = 512;   // tokens per llama_decode at most
  int32_t n_ctx_seq = 2048;  // positions per sequence
  int32_t max_queue = 64;
};

class Scheduler {
 public:
  // ctx must outlive the scheduler; `eog` lists the end-of-generation tokens.
  Scheduler(llama_context* ctx, const llama_vocab* vocab, SchedulerOptions options, std::vector<llama_token> eog);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // kUnavailable when the queue is full or the scheduler is stopping. Thread-safe.
  Status Enqueue(PendingRequest request);
  // Cancels everything, waits for the thread. Idempotent, thread-safe.
  void Stop();
  EngineMetrics Metrics() const;

 private:
  struct Slot {
    llama_seq_id seq = 0;
    bool active = false;
    PendingRequest req;
    size_t prompt_done = 0;   // prompt tokens already put into a batch
    llama_pos n_past = 0;     // position of the next token to decode
    llama_token next = -1;    // sampled, to be decoded in the next step
    int32_t logits_at = -1;   // this step's batch index whose logits to sample, or -1
    int32_t generated = 0;
    std::unique_ptr<TokenSampler> sampler;
    Utf8Stream utf8;
    std::unique_ptr<StopMatcher> stop;
    SteadyClock::time_point admitted, first_token;
  };

  void Run();
  void Admit(std::deque<PendingRequest>& incoming);
  void StartSlot(Slot& slot, PendingRequest req);
  bool FillBatch();
  void HandleDecodeFailure(int32_t code);
  void SampleAndEmit(Slot& slot);
  void FinishSlot(Slot& slot, FinishReason reason, Status error = Status::Ok());
  void RecordStep(int32_t generated_tokens);

  llama_context* ctx_;
  const llama_vocab* vocab_;
  const SchedulerOptions options_;
  const std::vector<llama_token> eog_;

  // Scheduler thread only.
  std::vector<Slot> slots_;
  LlamaBatch batch_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingRequest> queue_;  // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  // Metrics, guarded by mu_.
  int32_t busy_ = 0;
  std::deque<std::pair<SteadyClock::time_point, int32_t>> recent_steps_;
  double request_tps_ = 0;
  uint64_t prompt_tokens_total_ = 0, completion_tokens_total_ = 0, requests_total_ = 0;

  std::thread thread_;
};

}  // namespace llamanet::engine
