#include "engine/generation_stream.h"

#include <random>

namespace llamanet::engine {
namespace {

// "call_" and 24 letters and digits, as OpenAI's tool call ids look.
std::string NewCallId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += kChars[rng() % (sizeof kChars - 1)];
  return id;
}

}  // namespace

void GenerationStream::Emit(std::string_view text, int32_t tokens_generated, std::optional<TokenLogprobs> logprobs) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (result_) return;
    tokens_ = tokens_generated;
    if (logprobs) logprobs_.push_back(std::move(*logprobs));
    if (text.empty() && !logprobs) return;
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
  if (!cv_.wait_for(lock, timeout, [&] { return !text_.empty() || !logprobs_.empty() || result_.has_value(); })) {
    return std::nullopt;
  }
  GenerationEvent ev;
  ev.text.swap(text_);
  ev.logprobs.swap(logprobs_);
  ev.tokens_generated = tokens_;
  if (result_) {
    ev.done = true;
    ev.result = *result_;
    ev.tokens_generated = result_->completion_tokens;
    delivered_done_ = true;
  }
  lock.unlock();
  if (reader_) ReadMessage(ev);
  return ev;
}

void GenerationStream::ReadMessage(GenerationEvent& ev) {
  answer_ += ev.text;
  if (ev.text.empty() && !ev.done && message_) {
    ev.message = message_;
    return;
  }
  std::optional<AssistantMessage> read = reader_->Read(answer_, !ev.done);
  if (!read && ev.done) read = AssistantMessage{answer_, "", {}};  // not the template's syntax: plain content
  if (read) {
    for (size_t i = 0; i < read->tool_calls.size(); ++i) {
      if (call_ids_.size() <= i) call_ids_.push_back(NewCallId());
      read->tool_calls[i].id = call_ids_[i];
    }
    message_ = std::move(read);
  }
  ev.message = message_ ? *message_ : AssistantMessage{};
}

GenerationEvent GenerationStream::Collect() {
  GenerationEvent all;
  while (!all.done) {
    std::optional<GenerationEvent> ev = Next(std::chrono::hours(1));
    if (!ev) continue;
    all.text += ev->text;
    all.logprobs.insert(all.logprobs.end(), ev->logprobs.begin(), ev->logprobs.end());
    all.message = ev->message;
    all.tokens_generated = ev->tokens_generated;
    all.done = ev->done;
    all.result = ev->result;
  }
  return all;
}

}  // namespace llamanet::engine
