// The channel between the one thread that generates (the scheduler) and the one that
// consumes a generation (an HTTP handler). The producer appends text and finally the result;
// the consumer takes everything that has arrived in one call, so a slow consumer gets larger
// pieces rather than a backlog of small ones. Cancel() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/generation.h"

namespace llamanet::engine {

// Reads an answer so far as an assistant message, the way the model's chat template writes
// tool calls. nullopt when the text cannot be read (yet). Thread-safe.
class MessageReader {
 public:
  virtual ~MessageReader() = default;
  virtual std::optional<AssistantMessage> Read(const std::string& text, bool partial) const = 0;
};

class GenerationStream {
 public:
  // With a reader, every event carries the answer so far as a message (read on the
  // consumer's thread, which has the time; the scheduler's thread does not).
  explicit GenerationStream(std::shared_ptr<const MessageReader> reader = nullptr) : reader_(std::move(reader)) {}
  GenerationStream(const GenerationStream&) = delete;
  GenerationStream& operator=(const GenerationStream&) = delete;

  // Producer side.
  // `tokens_generated` counts completion tokens so far, text or not; `logprobs`, when the
  // request asked for them, is the token just generated.
  void Emit(std::string_view text, int32_t tokens_generated, std::optional<TokenLogprobs> logprobs = std::nullopt);
  void Finish(GenerationResult result);  // exactly once; later Emit calls are ignored
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Consumer side. Waits up to `timeout` for text or the end; returns nullopt on timeout.
  // The returned event holds all text since the last call; done is set once, at the end.
  std::optional<GenerationEvent> Next(std::chrono::milliseconds timeout);
  // Waits for the whole generation and returns all its text and result.
  GenerationEvent Collect();
  // Asks the producer to stop at its next step; the stream then finishes as kCancelled.
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;                       // guarded by mu_
  int32_t tokens_ = 0;                     // guarded by mu_
  std::vector<TokenLogprobs> logprobs_;     // guarded by mu_
  std::optional<GenerationResult> result_;  // guarded by mu_
  // Consumer side only.
  void ReadMessage(GenerationEvent& ev);
  bool delivered_done_ = false;
  const std::shared_ptr<const MessageReader> reader_;
  std::string answer_;                 // all text so far, for the reader
  std::optional<AssistantMessage> message_;  // the last reading that succeeded
  std::vector<std::string> call_ids_;  // tool call i keeps its id from one reading to the next
  std::atomic<bool> cancelled_{false};
};

}  // namespace llamanet::engine
