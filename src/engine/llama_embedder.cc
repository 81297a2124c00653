#include "engine/llama_embedder.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "engine/llama_handles.h"
#include "engine/prompt_tokenizer.h"

namespace llamanet::engine {
namespace {

std::string InputName(size_t i) { return "input[" + std::to_string(i) + "]"; }

void Normalize(const float* in, int32_t n, std::vector<float>* out) {
  double sum = 0;
  for (int32_t i = 0; i < n; ++i) sum += static_cast<double>(in[i]) * in[i];
  // A zero vector has no direction to keep; it stays zero rather than becoming NaN.
  const double scale = sum > 0 ? 1.0 / std::sqrt(sum) : 0.0;
  out->resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) (*out)[static_cast<size_t>(i)] = static_cast<float>(in[i] * scale);
}

class LlamaEmbedder final : public Embedder {
 public:
  LlamaEmbedder(std::shared_ptr<llama_model> model, LlamaContextPtr ctx, const LlamaEmbedderOptions& options,
                int32_t input_tokens)
      : model_(std::move(model)),
        ctx_(std::move(ctx)),
        tokenizer_(llama_model_get_vocab(model_.get())),
        options_(options),
        input_tokens_(input_tokens),
        dimensions_(llama_model_n_embd_out(model_.get())),
        encoder_only_(llama_model_has_encoder(model_.get()) && !llama_model_has_decoder(model_.get())),
        batch_(input_tokens, 1) {
    worker_ = std::thread([this] { Run(); });
  }

  ~LlamaEmbedder() override { Shutdown(); }

  Result<Embeddings> Embed(const std::vector<std::string>& texts) override {
    if (texts.empty()) return Status::InvalidArgument("there is nothing to embed: the input list is empty");
    if (texts.size() > static_cast<size_t>(options_.max_inputs)) {
      return Status::InvalidArgument("there are " + std::to_string(texts.size()) + " inputs; at most " +
                                     std::to_string(options_.max_inputs) + " may be embedded at once");
    }
    auto job = std::make_shared<Job>();
    job->inputs.reserve(texts.size());
    int32_t tokens_total = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      if (texts[i].size() > options_.max_input_bytes) {
        return Status::InvalidArgument(InputName(i) + " is " + std::to_string(texts[i].size()) +
                                       " bytes; the limit is " + std::to_string(options_.max_input_bytes));
      }
      if (texts[i].empty()) return Status::InvalidArgument(InputName(i) + " is empty");
      Result<std::vector<llama_token>> tokens = tokenizer_.Plain(texts[i]);
      if (!tokens.ok()) return Status::InvalidArgument(InputName(i) + " could not be tokenized");
      if (tokens->empty()) return Status::InvalidArgument(InputName(i) + " has no tokens");
      if (static_cast<int32_t>(tokens->size()) > input_tokens_) {
        return Status::InvalidArgument(InputName(i) + " is " + std::to_string(tokens->size()) +
                                       " tokens; this node embeds at most " + std::to_string(input_tokens_) +
                                       " tokens per input");
      }
      tokens_total += static_cast<int32_t>(tokens->size());
      job->inputs.push_back(std::move(tokens).value());
    }
    job->vectors.resize(texts.size());
    std::future<Status> done = job->done.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return Status::Cancelled("the node is shutting down");
      if (queued_inputs_ + job->inputs.size() > static_cast<size_t>(options_.max_queue)) {
        return Status::Unavailable("the embeddings queue is full; try again");
      }
      queued_inputs_ += job->inputs.size();
      queue_.push_back(job);
    }
    cv_.notify_one();
    if (Status s = done.get(); !s.ok()) return s;
    requests_total_.fetch_add(1, std::memory_order_relaxed);
    inputs_total_.fetch_add(texts.size(), std::memory_order_relaxed);
    tokens_total_.fetch_add(static_cast<uint64_t>(tokens_total), std::memory_order_relaxed);
    Embeddings out;
    out.vectors = std::move(job->vectors);
    out.prompt_tokens = tokens_total;
    return out;
  }

  int32_t Dimensions() const override { return dimensions_; }
  int32_t InputTokens() const override { return input_tokens_; }

  EmbedderMetrics Metrics() const override {
    EmbedderMetrics m;
    m.requests_total = requests_total_.load(std::memory_order_relaxed);
    m.inputs_total = inputs_total_.load(std::memory_order_relaxed);
    m.tokens_total = tokens_total_.load(std::memory_order_relaxed);
    m.decodes_total = decodes_total_.load(std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu_);
    m.queue_length = static_cast<int32_t>(queued_inputs_);
    return m;
  }

  void Shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::shared_ptr<Job>& job : queue_) job->Fail(Status::Cancelled("the node is shutting down"));
    queue_.clear();
    queued_inputs_ = 0;
  }

 private:
  // One Embed call. The worker alone touches a job once it is queued.
  struct Job {
    std::vector<std::vector<llama_token>> inputs;
    std::vector<std::vector<float>> vectors;
    size_t next = 0;      // inputs taken into a decode (guarded by mu_)
    size_t finished = 0;  // inputs whose vector is in
    bool answered = false;
    std::promise<Status> done;

    void Fail(const Status& s) {
      if (answered) return;
      answered = true;
      done.set_value(s);
    }
  };
  // An input in the batch being decoded: its job and its index there; its sequence id is its
  // place in the batch.
  struct Piece {
    std::shared_ptr<Job> job;
    size_t index;
  };

  void Run() {
    std::vector<Piece> pieces;
    while (true) {
      pieces.clear();
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        // Inputs in arrival order, as many as fit: the small inputs of several requests share
        // one decode.
        int32_t tokens = 0;
        while (!queue_.empty() && pieces.size() < static_cast<size_t>(options_.n_seq_max)) {
          Job& job = *queue_.front();
          if (job.answered) {  // failed already: the rest of it is not worth decoding
            queued_inputs_ -= job.inputs.size() - job.next;
            queue_.pop_front();
            continue;
          }
          const int32_t n = static_cast<int32_t>(job.inputs[job.next].size());
          if (tokens + n > input_tokens_) break;
          tokens += n;
          pieces.push_back(Piece{queue_.front(), job.next++});
          --queued_inputs_;
          if (job.next == job.inputs.size()) queue_.pop_front();
        }
      }
      Decode(pieces);
    }
  }

  void Decode(const std::vector<Piece>& pieces) {
    batch_.Clear();
    for (size_t s = 0; s < pieces.size(); ++s) {
      const std::vector<llama_token>& tokens = pieces[s].job->inputs[pieces[s].index];
      for (size_t p = 0; p < tokens.size(); ++p) {
        batch_.Add(tokens[p], static_cast<llama_pos>(p), static_cast<llama_seq_id>(s), true);
      }
    }
    // Nothing carries over between batches: every input starts at position 0 of its sequence.
    if (llama_memory_t mem = llama_get_memory(ctx_.get())) llama_memory_clear(mem, true);
    const int32_t rc = encoder_only_ ? llama_encode(ctx_.get(), batch_.get()) : llama_decode(ctx_.get(), batch_.get());
    decodes_total_.fetch_add(1, std::memory_order_relaxed);
    for (size_t s = 0; s < pieces.size(); ++s) {
      Job& job = *pieces[s].job;
      if (job.answered) continue;
      const float* e = rc == 0 ? llama_get_embeddings_seq(ctx_.get(), static_cast<llama_seq_id>(s)) : nullptr;
      if (!e) {
        LN_WARN << "embedding decode failed (llama.cpp returned " << rc << ")";
        job.Fail(Status::Internal("the model could not embed the input"));
        continue;
      }
      Normalize(e, dimensions_, &job.vectors[pieces[s].index]);
      if (++job.finished == job.inputs.size()) {
        job.answered = true;
        job.done.set_value(Status::Ok());
      }
    }
  }

  std::shared_ptr<llama_model> model_;
  LlamaContextPtr ctx_;
  // The vocabulary is immutable after load: callers tokenize on their own threads.
  PromptTokenizer tokenizer_;
  const LlamaEmbedderOptions options_;
  const int32_t input_tokens_;
  const int32_t dimensions_;
  const bool encoder_only_;
  LlamaBatch batch_;  // the worker's

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;  // guarded by mu_
  size_t queued_inputs_ = 0;                // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::atomic<uint64_t> requests_total_{0}, inputs_total_{0}, tokens_total_{0}, decodes_total_{0};
  std::thread worker_;
};

Status ValidateOptions(const LlamaEmbedderOptions& o) {
  if (o.n_ctx < 8 || o.n_ctx > (1 << 20)) return Status::InvalidArgument("the embedding context must be between 8 and 1048576");
  if (o.n_seq_max < 1 || o.n_seq_max > 256) return Status::InvalidArgument("inputs per decode must be between 1 and 256");
  if (o.n_threads < 0 || o.n_threads > 1024) return Status::InvalidArgument("threads must be between 0 and 1024");
  if (o.max_inputs < 1 || o.max_queue < o.max_inputs) {
    return Status::InvalidArgument("the embeddings queue must hold at least one request's inputs");
  }
  return Status::Ok();
}

}  // namespace

enum llama_pooling_type EmbeddingPooling(const llama_model* model) {
  char arch[128];
  char value[32];
  if (llama_model_meta_val_str(model, "general.architecture", arch, sizeof arch) > 0) {
    const std::string key = std::string(arch) + ".pooling_type";
    if (llama_model_meta_val_str(model, key.c_str(), value, sizeof value) > 0) {
      switch (std::atoi(value)) {
        case LLAMA_POOLING_TYPE_MEAN:
          return LLAMA_POOLING_TYPE_MEAN;
        case LLAMA_POOLING_TYPE_CLS:
          return LLAMA_POOLING_TYPE_CLS;
        case LLAMA_POOLING_TYPE_LAST:
          return LLAMA_POOLING_TYPE_LAST;
        default:
          break;
      }
    }
  }
  return LLAMA_POOLING_TYPE_MEAN;
}

Result<std::unique_ptr<Embedder>> OpenLlamaEmbedder(std::shared_ptr<llama_model> model,
                                                    const LlamaEmbedderOptions& options) {
  if (Status s = ValidateOptions(options); !s.ok()) return s;
  if (!model) return Status::InvalidArgument("no model to embed with");
  // Positions past the trained context give vectors of no use; the trained length caps inputs.
  const int32_t trained = llama_model_n_ctx_train(model.get());
  const int32_t input_tokens = trained > 0 ? std::min(options.n_ctx, trained) : options.n_ctx;
  const int32_t threads = options.n_threads > 0
                              ? options.n_threads
                              : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  llama_context_params cp = llama_context_default_params();
  cp.embeddings = true;
  cp.pooling_type = EmbeddingPooling(model.get());
  cp.n_ctx = static_cast<uint32_t>(input_tokens);
  // One decode holds a whole batch: llama.cpp pools a sequence within one micro-batch only.
  cp.n_batch = static_cast<uint32_t>(input_tokens);
  cp.n_ubatch = static_cast<uint32_t>(input_tokens);
  cp.n_seq_max = static_cast<uint32_t>(options.n_seq_max);
  // The sequences of one batch share the context's cells rather than each reserving n_ctx.
  cp.kv_unified = true;
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.no_perf = true;
  LlamaContextPtr ctx(llama_init_from_model(model.get(), cp));
  if (!ctx) return Status::Internal("llama.cpp could not create an embedding context (out of memory?)");
  LN_INFO << "embeddings: " << llama_model_n_embd_out(model.get()) << " dimensions, up to " << input_tokens
          << " tokens per input, " << options.n_seq_max << " inputs per decode, pooling "
          << (cp.pooling_type == LLAMA_POOLING_TYPE_CLS ? "cls" : cp.pooling_type == LLAMA_POOLING_TYPE_LAST ? "last" : "mean");
  return std::unique_ptr<Embedder>(
      std::make_unique<LlamaEmbedder>(std::move(model), std::move(ctx), options, input_tokens));
}

}  // namespace llamanet::engine
