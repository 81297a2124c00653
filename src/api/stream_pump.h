// What the native and the OpenAI routes share once a request is submitted: the generations of
// one HTTP request drained together, each finished one recorded in the node's metrics, and,
// for streams, the Server-Sent Events loop that cancels every generation of the request as
// soon as its client goes away (its slots come free at the next decode step).
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "engine/generation_stream.h"
#include "api/metrics.h"
#include "http/sse_writer.h"

namespace llamanet::api {

// The generations of one request (one per choice). Used by one consumer thread at a time.
class GenerationGroup {
 public:
  // `metrics` may be null; otherwise it must outlive the group.
  GenerationGroup(std::vector<std::shared_ptr<engine::GenerationStream>> streams, NodeMetrics* metrics);
  GenerationGroup(const GenerationGroup&) = delete;
  GenerationGroup& operator=(const GenerationGroup&) = delete;

  size_t size() const { return streams_.size(); }
  // True once every generation has delivered its last event.
  bool finished() const { return remaining_ == 0; }

  // The next event of any generation, with that generation's index; nullopt when none came
  // within `timeout` (or all are finished).
  std::optional<std::pair<size_t, engine::GenerationEvent>> Next(std::chrono::milliseconds timeout);
  // Waits for every generation; element i holds generation i's whole text and its result.
  // `client_gone`, when given, is asked every poll interval; once it says yes, every
  // generation is cancelled (a request whose client went away stops at the next step).
  std::vector<engine::GenerationEvent> Collect(const std::function<bool()>& client_gone = {});
  // Asks every generation still running to stop. Thread-safe.
  void CancelAll();

 private:
  std::optional<std::pair<size_t, engine::GenerationEvent>> Take(size_t i, std::chrono::milliseconds timeout);

  std::vector<std::shared_ptr<engine::GenerationStream>> streams_;
  std::vector<bool> done_;
  size_t remaining_;
  size_t cursor_ = 0;  // where the next round-robin scan starts, so no generation starves
  NodeMetrics* metrics_;
};

// Turns generation events into SSE events. Called on the thread that writes the response.
class SseRenderer {
 public:
  virtual ~SseRenderer() = default;
  // Before the first generation event.
  virtual void Open(http::SseWriter& sse) { (void)sse; }
  // One event of generation `index`. Returns false to end the stream now (after writing an
  // error event): the other generations are cancelled, then Close() runs.
  virtual bool Event(size_t index, const engine::GenerationEvent& event, http::SseWriter& sse) = 0;
  // After the last event, or after Event() returned false; not when the client went away.
  virtual void Close(http::SseWriter& sse) { (void)sse; }
};

// Answers `res` as a text/event-stream fed from `group` through `renderer`.
void ServeEventStream(httplib::Response& res, std::shared_ptr<GenerationGroup> group,
                      std::shared_ptr<SseRenderer> renderer);

}  // namespace llamanet::api
