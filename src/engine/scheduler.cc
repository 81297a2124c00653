#include "engine/scheduler.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "core/log.h"

namespace llamanet::engine {
namespace {

constexpr auto kRateWindow = std::chrono::seconds(5);
constexpr auto kAdmitGather = std::chrono::milliseconds(2);
constexpr double kRequestTpsSmoothing = 0.3;  // weight of the newest request in the average

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string TokenPiece(const llama_vocab* vocab, llama_token token) {
  char buf[128];
  int32_t n = llama_token_to_piece(vocab, token, buf, sizeof buf, 0, false);
  if (n >= 0) return std::string(buf, n);
  std::string big(-n, '\0');
  n = llama_token_to_piece(vocab, token, big.data(), static_cast<int32_t>(big.size()), 0, false);
  big.resize(std::max(n, 0));
  return big;
}

}  // namespace

Scheduler::Scheduler(llama_context* ctx, const llama_vocab* vocab, SchedulerOptions options,
                     std::vector<llama_token> eog)
    : ctx_(ctx),
      vocab_(vocab),
      options_(options),
      eog_(std::move(eog)),
      slots_(options.n_slots),
      batch_(options.n_batch, 1),
      store_(options.prefix_cache ? options.cache_ram_bytes : 0) {
  for (int32_t i = 0; i < options_.n_slots; ++i) slots_[i].seq = i;
  thread_ = std::thread([this] { Run(); });
}

Scheduler::~Scheduler() { Stop(); }

Status Scheduler::Enqueue(PendingRequest request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Unavailable("the engine is shutting down");
    int32_t free_slots = options_.n_slots - busy_;
    int32_t waiting = static_cast<int32_t>(queue_.size());
    if (waiting >= free_slots + options_.max_queue) {
      return Status::Unavailable("all " + std::to_string(options_.n_slots) + " slots are busy and " +
                                 std::to_string(options_.max_queue) + " requests are waiting");
    }
    queue_.push_back(std::move(request));
  }
  cv_.notify_one();
  return Status::Ok();
}

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

EngineMetrics Scheduler::Metrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  EngineMetrics m;
  m.slots_total = options_.n_slots;
  m.slots_busy = busy_;
  m.queue_length = static_cast<int32_t>(queue_.size());
  m.queue_capacity = options_.max_queue;
  auto now = SteadyClock::now();
  int64_t tokens = 0;
  for (const auto& [t, n] : recent_steps_) {
    if (now - t <= kRateWindow) tokens += n;
  }
  m.decode_tokens_per_second = tokens / Seconds(kRateWindow);
  m.request_tokens_per_second = request_tps_;
  m.prompt_tokens_total = prompt_tokens_total_;
  m.completion_tokens_total = completion_tokens_total_;
  m.requests_total = requests_total_;
  m.prefix_hits = prefix_hits_;
  m.prefix_misses = prefix_misses_;
  m.cached_tokens_total = cached_tokens_total_;
  m.cache_ram_bytes = store_bytes_;
  m.cache_ram_capacity = store_.capacity();
  m.cache_ram_entries = store_entries_;
  m.cached_conversations = static_cast<int32_t>(held_conversations_);
  return m;
}

int32_t Scheduler::CachedTokensFor(uint64_t conversation) const {
  if (conversation == 0) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  size_t most = 0;
  for (const auto& [c, n] : held_) {
    if (c == conversation) most = std::max(most, n);
  }
  return static_cast<int32_t>(most);
}

void Scheduler::Run() {
  std::deque<PendingRequest> incoming;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      bool any_active = busy_ > 0;
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || any_active; });
      if (!any_active && !stopping_) {
        // Waking from idle: requests sent together arrive microseconds apart. Gathering them
        // for a moment lets their prompts share the first decode and their generations start
        // together, instead of the later ones waiting out the first one's whole prompt.
        cv_.wait_for(lock, kAdmitGather, [&] {
          return stopping_ || static_cast<int32_t>(queue_.size()) >= options_.n_slots - busy_;
        });
      }
      if (stopping_) break;
      int32_t free_slots = options_.n_slots - busy_;
      while (free_slots-- > 0 && !queue_.empty()) {
        incoming.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    Admit(incoming);
    for (Slot& slot : slots_) {
      if (slot.active && slot.req.stream->cancelled()) {
        FinishSlot(slot, FinishReason::kCancelled, Status::Cancelled("the request was cancelled"));
      }
    }
    if (!FillBatch()) continue;
    int32_t rc = llama_decode(ctx_, batch_.get());
    if (rc != 0) {
      HandleDecodeFailure(rc);
      continue;
    }
    int32_t generated = 0;
    for (Slot& slot : slots_) {
      if (slot.active && slot.logits_at >= 0) {
        SampleAndEmit(slot);
        ++generated;
      }
    }
    RecordStep(generated);
  }
  // Stopping: end every stream, queued or running.
  for (Slot& slot : slots_) {
    if (slot.active) FinishSlot(slot, FinishReason::kCancelled, Status::Cancelled("the node is shutting down"));
  }
  std::deque<PendingRequest> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(queue_);
  }
  for (PendingRequest& r : left) {
    GenerationResult res;
    res.finish_reason = FinishReason::kCancelled;
    res.error = Status::Cancelled("the node is shutting down");
    r.stream->Finish(res);
  }
}

void Scheduler::Admit(std::deque<PendingRequest>& incoming) {
  if (incoming.empty()) return;
  std::vector<bool> copy_source(slots_.size(), false);
  while (!incoming.empty()) {
    Slot* slot = Place(incoming.front().prompt, copy_source);
    if (!slot) break;
    StartSlot(*slot, std::move(incoming.front()));
    incoming.pop_front();
  }
  PublishHeld();
}

Scheduler::Slot* Scheduler::Place(const std::vector<llama_token>& prompt, std::vector<bool>& copy_source) {
  llama_memory_t mem = llama_get_memory(ctx_);
  // The prompt's last token is always decoded: its logits choose the first new token.
  const size_t usable = prompt.size() - 1;
  Slot* source = nullptr;
  size_t source_n = 0;
  if (options_.prefix_cache) {
    for (Slot& s : slots_) {
      size_t n = std::min(CommonPrefix(s.cached, prompt), usable);
      if (n > source_n) source = &s, source_n = n;
    }
  }
  // A conversation continuing in its free slot stays there. The match may stop short of the
  // slot's end: the reply's text, resent, need not tokenize as it was generated.
  const bool continues = source && !source->active && !copy_source[source->seq] && 2 * source_n >= source->cached.size();
  Slot* target = continues ? source : Victim(copy_source);
  if (!target) return nullptr;
  auto stored_tokens = [&] {
    std::optional<PrefixStore::Match> m = options_.prefix_cache ? store_.Longest(prompt) : std::nullopt;
    return m ? std::min(m->tokens, usable) : 0;
  };
  const size_t stored_n = stored_tokens();

  if (source == target && source_n >= stored_n) {
    // Its own cache is the best start: keep that prefix, and the rest in the store.
    if (target->cached.size() - source_n >= options_.min_saved_tokens) Save(*target);
    llama_memory_seq_rm(mem, target->seq, static_cast<llama_pos>(source_n), -1);
    target->cached.resize(source_n);
    target->reused = static_cast<int32_t>(source_n);
    return target;
  }
  Save(*target);
  Forget(*target);
  if (source && source_n >= stored_n) {
    // Cross-stream copies are whole-sequence in llama.cpp; what follows the prefix is cut.
    llama_memory_seq_cp(mem, source->seq, target->seq, -1, -1);
    llama_memory_seq_rm(mem, target->seq, static_cast<llama_pos>(source_n), -1);
    target->cached.assign(source->cached.begin(), source->cached.begin() + static_cast<ptrdiff_t>(source_n));
    target->reused = static_cast<int32_t>(source_n);
    copy_source[source->seq] = true;
    return target;
  }
  // Looked up again: saving the target may have evicted or replaced what matched before.
  std::optional<PrefixStore::Match> stored = stored_n > 0 ? store_.Longest(prompt) : std::nullopt;
  if (!stored) return target;
  const size_t n = std::min(stored->tokens, usable);
  PrefixEntry entry = store_.Take(*stored);
  if (llama_state_seq_set_data(ctx_, entry.state.data(), entry.state.size(), target->seq) == 0) {
    LN_WARN << "a saved prefix of " << entry.tokens.size() << " tokens could not be restored; decoding it again";
    Forget(*target);
    return target;
  }
  llama_memory_seq_rm(mem, target->seq, static_cast<llama_pos>(n), -1);
  entry.tokens.resize(n);
  target->cached = std::move(entry.tokens);
  target->reused = static_cast<int32_t>(n);
  return target;
}

Scheduler::Slot* Scheduler::Victim(const std::vector<bool>& copy_source) {
  Slot* victim = nullptr;
  for (Slot& s : slots_) {
    if (s.active || copy_source[s.seq]) continue;
    if (!victim || (s.cached.empty() != victim->cached.empty() ? s.cached.empty() : s.last_used < victim->last_used)) {
      victim = &s;
    }
  }
  return victim;
}

void Scheduler::Save(const Slot& slot) {
  if (store_.capacity() == 0 || slot.cached.size() < options_.min_saved_tokens) return;
  PrefixEntry entry;
  entry.state.resize(llama_state_seq_get_size(ctx_, slot.seq));
  if (entry.state.size() > store_.capacity()) return;
  size_t written = llama_state_seq_get_data(ctx_, entry.state.data(), entry.state.size(), slot.seq);
  if (written == 0) return;
  entry.state.resize(written);
  entry.tokens = slot.cached;
  entry.conversation = slot.conversation;
  store_.Put(std::move(entry));
}

void Scheduler::Forget(Slot& slot) {
  llama_memory_seq_rm(llama_get_memory(ctx_), slot.seq, -1, -1);
  slot.cached.clear();
  slot.conversation = 0;
  slot.reused = 0;
}

void Scheduler::PublishHeld() {
  std::vector<std::pair<uint64_t, size_t>> held;
  for (const Slot& s : slots_) {
    if (s.conversation != 0 && !s.cached.empty()) held.emplace_back(s.conversation, s.cached.size());
  }
  store_.ForEach([&](const PrefixEntry& e) {
    if (e.conversation != 0) held.emplace_back(e.conversation, e.tokens.size());
  });
  std::vector<uint64_t> distinct;
  for (const auto& [c, n] : held) distinct.push_back(c);
  std::sort(distinct.begin(), distinct.end());
  const size_t conversations = static_cast<size_t>(std::unique(distinct.begin(), distinct.end()) - distinct.begin());
  std::lock_guard<std::mutex> lock(mu_);
  held_ = std::move(held);
  held_conversations_ = conversations;
  store_bytes_ = store_.bytes();
  store_entries_ = store_.size();
}

void Scheduler::StartSlot(Slot& slot, PendingRequest req) {
  slot.active = true;
  slot.prompt_done = static_cast<size_t>(slot.reused);
  slot.n_past = slot.reused;
  slot.conversation = req.request.conversation;
  slot.next = -1;
  slot.logits_at = -1;
  slot.generated = 0;
  slot.utf8 = Utf8Stream();
  slot.stop = std::make_unique<StopMatcher>(req.request.stop);
  slot.admitted = SteadyClock::now();
  if (!req.grammar) {
    const std::vector<llama_token>& banned = req.request.ignore_eos ? eog_ : std::vector<llama_token>{};
    slot.sampler = std::make_unique<TokenSampler>(vocab_, req.request.sampling, banned, req.seed);
  }
  // Penalties look back over the prompt too, as they do in llama-server.
  size_t lookback = static_cast<size_t>(std::max(req.request.sampling.repeat_last_n, 0));
  size_t from = req.prompt.size() > lookback ? req.prompt.size() - lookback : 0;
  for (size_t i = from; i < req.prompt.size(); ++i) {
    if (req.grammar) {
      req.grammar->Accept(req.prompt[i]);
    } else {
      slot.sampler->Accept(req.prompt[i]);
    }
  }
  slot.req = std::move(req);
  std::lock_guard<std::mutex> lock(mu_);
  ++busy_;
  if (slot.reused > 0) {
    ++prefix_hits_;
    cached_tokens_total_ += static_cast<uint64_t>(slot.reused);
  } else {
    ++prefix_misses_;
  }
}

bool Scheduler::FillBatch() {
  batch_.Clear();
  for (Slot& slot : slots_) {
    slot.logits_at = -1;
    if (slot.active && slot.next >= 0) {
      slot.logits_at = batch_.Add(slot.next, slot.n_past, slot.seq, true);
      slot.cached.push_back(slot.next);
    }
  }
  // Prompts fill what room is left, oldest admission first, in chunks.
  std::vector<Slot*> prompting;
  for (Slot& slot : slots_) {
    if (slot.active && slot.next < 0 && slot.prompt_done < slot.req.prompt.size()) prompting.push_back(&slot);
  }
  std::sort(prompting.begin(), prompting.end(), [](const Slot* a, const Slot* b) { return a->admitted < b->admitted; });
  for (Slot* slot : prompting) {
    const std::vector<llama_token>& prompt = slot->req.prompt;
    while (slot->prompt_done < prompt.size() && batch_.size() < batch_.capacity()) {
      bool last = slot->prompt_done + 1 == prompt.size();
      int32_t i = batch_.Add(prompt[slot->prompt_done], slot->n_past, slot->seq, last);
      slot->cached.push_back(prompt[slot->prompt_done]);
      if (last) slot->logits_at = i;
      ++slot->prompt_done;
      ++slot->n_past;
    }
  }
  return batch_.size() > 0;
}

void Scheduler::HandleDecodeFailure(int32_t code) {
  std::string why = code == 1 ? "no room left in the KV cache" : "llama_decode failed with code " + std::to_string(code);
  LN_ERROR << "decode step failed: " << why;
  for (Slot& slot : slots_) {
    if (slot.active) FinishSlot(slot, FinishReason::kError, Status::Internal(why));
    // What the failed step left in the cache is unknown: no slot's cache is trusted.
    Forget(slot);
  }
  PublishHeld();
}

void Scheduler::SampleAndEmit(Slot& slot) {
  if (slot.next >= 0) ++slot.n_past;  // the token decoded this step now sits in the cache
  float* logits = llama_get_logits_ith(ctx_, slot.logits_at);
  llama_token token = -1;
  if (slot.req.grammar) {
    const auto started = SteadyClock::now();
    Result<llama_token> picked = slot.req.grammar->Sample(ctx_, slot.logits_at);
    if (picked.ok() && SteadyClock::now() - started > options_.max_grammar_step) {
      picked = Status::InvalidArgument("the grammar (or JSON schema, or tool list) costs more than " +
                                       std::to_string(options_.max_grammar_step.count()) +
                                       " ms per token to follow; make it smaller");
    }
    if (!picked.ok()) {
      slot.logits_at = -1;
      FinishSlot(slot, FinishReason::kError, picked.status());
      return;
    }
    token = *picked;
  } else {
    token = slot.sampler->Sample(logits);  // leaves the logits as they were
  }
  slot.logits_at = -1;
  if (slot.generated++ == 0) slot.first_token = SteadyClock::now();

  // A grammar's end allows only end-of-generation tokens, so they end it even with ignore_eos.
  if ((!slot.req.request.ignore_eos || slot.req.grammar) && llama_vocab_is_eog(vocab_, token)) {
    FinishSlot(slot, FinishReason::kStop);
    return;
  }
  std::optional<TokenLogprobs> logprobs;
  if (slot.req.request.logprobs) logprobs = Logprobs(logits, token, slot.req.request.top_logprobs);
  std::string text = slot.stop->Push(slot.utf8.Push(TokenPiece(vocab_, token)));
  slot.req.stream->Emit(text, slot.generated, std::move(logprobs));
  if (slot.stop->stopped()) {
    FinishSlot(slot, FinishReason::kStop);
  } else if (slot.generated >= slot.req.request.max_tokens || slot.n_past + 1 >= options_.n_ctx_seq) {
    // The context holds prompt and completion together: n_past tokens in the cache plus this one.
    FinishSlot(slot, FinishReason::kLength);
  } else {
    slot.next = token;
  }
}

TokenLogprobs Scheduler::Logprobs(const float* logits, llama_token token, int32_t top) const {
  const int32_t n = llama_vocab_n_tokens(vocab_);
  float max = logits[ArgMax(logits, n)];
  double sum = 0;
  for (int32_t t = 0; t < n; ++t) sum += std::exp(static_cast<double>(logits[t] - max));
  const float log_z = max + static_cast<float>(std::log(sum));
  TokenLogprobs out;
  out.chosen = {TokenPiece(vocab_, token), logits[token] - log_z};
  if (top > 0) {
    std::vector<llama_token> ids(n);
    for (int32_t t = 0; t < n; ++t) ids[t] = t;
    const int32_t k = std::min(top, n);
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(),
                      [&](llama_token a, llama_token b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    for (int32_t i = 0; i < k; ++i) out.top.push_back({TokenPiece(vocab_, ids[i]), logits[ids[i]] - log_z});
  }
  return out;
}

void Scheduler::FinishSlot(Slot& slot, FinishReason reason, Status error) {
  if (!slot.stop->stopped()) {
    std::string tail = slot.stop->Push(slot.utf8.Finish());
    slot.req.stream->Emit(tail + slot.stop->Finish(), slot.generated);
  }
  auto now = SteadyClock::now();
  GenerationResult res;
  res.finish_reason = reason;
  res.error = std::move(error);
  res.prompt_tokens = static_cast<int32_t>(slot.req.prompt.size());
  res.completion_tokens = slot.generated;
  res.cached_tokens = slot.reused;
  res.queue_seconds = Seconds(slot.admitted - slot.req.submitted);
  res.first_token_seconds = slot.generated > 0 ? Seconds(slot.first_token - slot.req.submitted) : 0;
  res.generation_seconds = Seconds(now - slot.req.submitted);

  // The slot's cache stays for the next request that shares its prefix.
  if (!options_.prefix_cache) Forget(slot);
  slot.last_used = now;
  slot.active = false;
  slot.next = -1;
  slot.logits_at = -1;
  slot.sampler.reset();
  slot.req.grammar.reset();
  double tps = slot.generated >= 2 ? (slot.generated - 1) / std::max(Seconds(now - slot.first_token), 1e-6) : 0;
  {
    // The slot counts as free before the consumer hears of the end, so that a consumer that
    // submits again at once finds it free.
    std::lock_guard<std::mutex> lock(mu_);
    --busy_;
    ++requests_total_;
    prompt_tokens_total_ += res.prompt_tokens;
    completion_tokens_total_ += res.completion_tokens;
    if (tps > 0) request_tps_ = request_tps_ == 0 ? tps : request_tps_ + kRequestTpsSmoothing * (tps - request_tps_);
  }
  LN_DEBUG << "request " << slot.req.request.request_id << " finished (" << FinishReasonName(reason) << "): "
           << res.prompt_tokens << " prompt + " << res.completion_tokens << " completion tokens in "
           << res.generation_seconds << " s";
  slot.req.stream->Finish(std::move(res));
  slot.req.stream.reset();
  PublishHeld();
}

void Scheduler::RecordStep(int32_t generated_tokens) {
  auto now = SteadyClock::now();
  std::lock_guard<std::mutex> lock(mu_);
  recent_steps_.emplace_back(now, generated_tokens);
  while (!recent_steps_.empty() && now - recent_steps_.front().first > kRateWindow) recent_steps_.pop_front();
}

}  // namespace llamanet::engine
