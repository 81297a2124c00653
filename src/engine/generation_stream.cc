#include "engine/generation_stream.h"

namespace llamanet::engine {

void GenerationStream::Emit(std::string_view text, int32_t tokens_generated) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (result_) return;
    tokens_ = tokens_generated;
    if (text.empty()) return;
    text_.append(text);
  }
  cv_.notify_one();
}

void GenerationStream::Finish(GenerationResult result) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (result_) return;
    result_ = std::move(result);
  }
  cv_.notify_one();
}

std::optional<GenerationEvent> GenerationStream::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (delivered_done_) return std::nullopt;
  if (!cv_.wait_for(lock, timeout, [&] { return !text_.empty() || result_.has_value(); })) {
    return std::nullopt;
  }
  GenerationEvent ev;
  ev.text.swap(text_);
  ev.tokens_generated = tokens_;
  if (result_) {
    ev.done = true;
    ev.result = *result_;
    ev.tokens_generated = result_->completion_tokens;
    delivered_done_ = true;
  }
  return ev;
}

GenerationEvent GenerationStream::Collect() {
  GenerationEvent all;
  while (!all.done) {
    std::optional<GenerationEvent> ev = Next(std::chrono::hours(1));
    if (!ev) continue;
    all.text += ev->text;
    all.tokens_generated = ev->tokens_generated;
    all.done = ev->done;
    all.result = ev->result;
  }
  return all;
}

}  // namespace llamanet::engine
