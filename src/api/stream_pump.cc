#include "api/stream_pump.h"

#include <algorithm>

namespace llamanet::api {

using http::SseWriter;
namespace {

using engine::GenerationEvent;
using Clock = std::chrono::steady_clock;

// How often a stream with no news checks that its client is still there.
constexpr auto kPollInterval = std::chrono::milliseconds(200);
// A GenerationStream can be waited on only alone, so a request with several generations
// waits on one at a time for this long, then looks at the others. Well under one decode
// step (about 15 ms for a 1B model on 2 cores), so no choice's text is held back noticeably.
constexpr auto kGroupPollInterval = std::chrono::milliseconds(5);

}  // namespace

GenerationGroup::GenerationGroup(std::vector<std::shared_ptr<engine::GenerationStream>> streams, NodeMetrics* metrics)
    : streams_(std::move(streams)), done_(streams_.size(), false), remaining_(streams_.size()), metrics_(metrics) {}

std::optional<std::pair<size_t, GenerationEvent>> GenerationGroup::Take(size_t i, std::chrono::milliseconds timeout) {
  std::optional<GenerationEvent> ev = streams_[i]->Next(timeout);
  if (!ev) return std::nullopt;
  if (ev->done) {
    done_[i] = true;
    --remaining_;
    if (metrics_) metrics_->ObserveGeneration(ev->result);
  }
  return std::make_pair(i, std::move(*ev));
}

std::optional<std::pair<size_t, GenerationEvent>> GenerationGroup::Next(std::chrono::milliseconds timeout) {
  if (finished()) return std::nullopt;
  if (streams_.size() == 1) return Take(0, timeout);
  auto deadline = Clock::now() + timeout;
  while (true) {
    // Whatever is ready, round robin.
    for (size_t k = 0; k < streams_.size(); ++k) {
      size_t i = (cursor_ + k) % streams_.size();
      if (done_[i]) continue;
      if (auto ev = Take(i, std::chrono::milliseconds(0))) {
        cursor_ = i + 1;
        return ev;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    size_t i = cursor_ % streams_.size();
    while (done_[i]) i = (i + 1) % streams_.size();
    cursor_ = i + 1;
    if (auto ev = Take(i, std::min(left, std::chrono::milliseconds(kGroupPollInterval)))) return ev;
  }
}

std::vector<GenerationEvent> GenerationGroup::Collect(const std::function<bool()>& client_gone) {
  std::vector<GenerationEvent> all(streams_.size());
  bool cancelled = false;
  while (!finished()) {
    std::optional<std::pair<size_t, GenerationEvent>> ev = Next(kPollInterval);
    if (!cancelled && client_gone && client_gone()) {
      CancelAll();  // nobody will read the answer: free the slots at the next decode step
      cancelled = true;
    }
    if (!ev) continue;
    GenerationEvent& into = all[ev->first];
    into.text += ev->second.text;
    into.logprobs.insert(into.logprobs.end(), ev->second.logprobs.begin(), ev->second.logprobs.end());
    into.message = ev->second.message;
    into.tokens_generated = ev->second.tokens_generated;
    into.done = ev->second.done;
    into.result = ev->second.result;
  }
  return all;
}

void GenerationGroup::CancelAll() {
  for (const auto& s : streams_) s->Cancel();
}

void ServeEventStream(httplib::Response& res, std::shared_ptr<GenerationGroup> group,
                      std::shared_ptr<SseRenderer> renderer) {
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [group, renderer](size_t, httplib::DataSink& sink) {
        SseWriter sse(sink);
        renderer->Open(sse);
        bool ended_early = false;
        while (sse.Writable() && !group->finished()) {
          std::optional<std::pair<size_t, GenerationEvent>> ev = group->Next(kPollInterval);
          if (ev && !renderer->Event(ev->first, ev->second, sse)) {
            ended_early = true;
            break;
          }
        }
        if (ended_early || !group->finished()) group->CancelAll();
        if (!sse.Writable()) return false;  // the client went away
        renderer->Close(sse);
        sse.Done();
        return true;
      },
      // Runs when the response ends for any reason, a broken connection included.
      [group](bool) { group->CancelAll(); });
}

}  // namespace llamanet::api
