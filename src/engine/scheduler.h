// Continuous batching over one llama_context with N sequences (slots). Its thread is the only
// one that calls llama_decode or touches the context: every step it puts the next token of
// every generating request, plus chunks of new prompts in what room is left, into one
// llama_decode, then samples each request's next token from that decode's logits.
// A slot keeps its sequence's KV cache after its request ends, so that a request sharing a
// prefix with it (the next turn of a conversation) decodes only what is new; see Place().
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
#include "engine/grammar_sampler.h"
#include "engine/llama_handles.h"
#include "engine/prefix_store.h"
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
  std::unique_ptr<GrammarSampler> grammar;  // set when the output is constrained
  std::shared_ptr<GenerationStream> stream;
  SteadyClock::time_point submitted;
};

struct SchedulerOptions {
  int32_t n_slots = 4;
  int32_t n_batch = 512;   // tokens per llama_decode at most
  int32_t n_ctx_seq = 2048;  // positions per sequence
  int32_t max_queue = 64;
  bool prefix_cache = true;       // reuse cached prefixes; off: every prompt is decoded whole
  size_t cache_ram_bytes = 0;     // host memory for saved sequences (PrefixStore); 0: slots only
  size_t min_saved_tokens = 32;   // shorter sequences are not worth a save
  // A constrained request whose grammar takes longer than this to pick one token is ended with
  // an error: every slot waits on that pick (a 5,000-value enum took 400 ms a token here).
  std::chrono::milliseconds max_grammar_step{250};
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
  // The most tokens cached for a conversation (in a slot or the host store). Thread-safe.
  int32_t CachedTokensFor(uint64_t conversation) const;

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
    std::unique_ptr<TokenSampler> sampler;  // or, for a constrained output, req.grammar
    Utf8Stream utf8;
    std::unique_ptr<StopMatcher> stop;
    SteadyClock::time_point admitted, first_token;
    // What the sequence holds in the KV cache, position 0 on; kept after the request ends.
    std::vector<llama_token> cached;
    uint64_t conversation = 0;  // of the request that filled it
    int32_t reused = 0;         // cached tokens the current request started from
    SteadyClock::time_point last_used;
  };

  void Run();
  void Admit(std::deque<PendingRequest>& incoming);
  // Picks a free slot for `prompt` and fills its sequence with the longest cached prefix
  // there is: its own, another slot's (copied) or one from the host store (restored).
  // `copy_source` marks slots whose sequence is being copied this step: they must not be
  // overwritten before the copy runs in the next decode. nullptr when no slot can take it now.
  Slot* Place(const std::vector<llama_token>& prompt, std::vector<bool>& copy_source);
  Slot* Victim(const std::vector<bool>& copy_source);
  void Save(const Slot& slot);
  void Forget(Slot& slot);
  void PublishHeld();
  void StartSlot(Slot& slot, PendingRequest req);
  bool FillBatch();
  void HandleDecodeFailure(int32_t code);
  void SampleAndEmit(Slot& slot);
  // The token's log probability and the request's top alternatives, from raw logits.
  TokenLogprobs Logprobs(const float* logits, llama_token token, int32_t top) const;
  void FinishSlot(Slot& slot, FinishReason reason, Status error = Status::Ok());
  void RecordStep(int32_t generated_tokens);

  llama_context* ctx_;
  const llama_vocab* vocab_;
  const SchedulerOptions options_;
  const std::vector<llama_token> eog_;

  // Scheduler thread only.
  std::vector<Slot> slots_;
  LlamaBatch batch_;
  PrefixStore store_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingRequest> queue_;  // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  // Metrics, guarded by mu_.
  int32_t busy_ = 0;
  std::deque<std::pair<SteadyClock::time_point, int32_t>> recent_steps_;
  double request_tps_ = 0;
  uint64_t prompt_tokens_total_ = 0, completion_tokens_total_ = 0, requests_total_ = 0;
  uint64_t prefix_hits_ = 0, prefix_misses_ = 0, cached_tokens_total_ = 0;
  size_t store_bytes_ = 0, store_entries_ = 0, held_conversations_ = 0;
  std::vector<std::pair<uint64_t, size_t>> held_;  // conversation -> cached tokens, slots and store

  std::thread thread_;
};

}  // namespace llamanet::engine
