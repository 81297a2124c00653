#include "engine/llama_engine.h"

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "core/log.h"
#include "engine/chat_template.h"
#include "engine/model_loader.h"
#include "engine/prompt_tokenizer.h"
#include "engine/sampler_chain.h"
#include "engine/scheduler.h"

namespace llamanet::engine {
namespace {

class LlamaEngine final : public Engine {
 public:
  LlamaEngine(std::shared_ptr<llama_model> model, LlamaContextPtr ctx, ModelInfo info, const LlamaEngineOptions& options)
      : model_(std::move(model)),
        ctx_(std::move(ctx)),
        vocab_(llama_model_get_vocab(model_.get())),
        info_(std::move(info)),
        options_(options),
        chat_template_(model_.get()),
        tokenizer_(vocab_) {
    info_.has_chat_template = chat_template_.from_model();
    std::vector<llama_token> eog;
    for (llama_token t = 0; t < llama_vocab_n_tokens(vocab_); ++t) {
      if (llama_vocab_is_eog(vocab_, t)) eog.push_back(t);
    }
    SchedulerOptions so;
    so.n_slots = options.n_slots;
    so.n_batch = options.n_batch;
    so.n_ctx_seq = info_.n_ctx;
    so.max_queue = options.max_queue;
    so.prefix_cache = options.prefix_cache;
    so.cache_ram_bytes = options.cache_ram_bytes;
    so.max_grammar_step = options.max_grammar_step;
    scheduler_ = std::make_unique<Scheduler>(ctx_.get(), vocab_, so, std::move(eog));
  }

  ~LlamaEngine() override { Shutdown(); }

  Result<std::shared_ptr<GenerationStream>> Submit(GenerationRequest request) override {
    auto submitted = SteadyClock::now();
    if (request.max_tokens < 1) return Status::InvalidArgument("max_tokens must be at least 1");
    if (Status s = ValidateSampling(request.sampling, info_.n_vocab); !s.ok()) return s;
    Result<std::vector<llama_token>> tokens = Status::InvalidArgument("the prompt is empty");
    GrammarPlan grammar;
    std::shared_ptr<const MessageReader> reader;
    if (!request.messages.empty()) {
      Result<ChatPlan> plan = chat_template_.Apply(request.messages, request.constraints);
      if (!plan.ok()) return plan.status();
      if (Status s = CheckPromptBytes(plan->prompt.text.size()); !s.ok()) return s;
      tokens = tokenizer_.Chat(plan->prompt);
      grammar = std::move(plan->grammar);
      reader = std::move(plan->parser);
      request.stop.insert(request.stop.end(), plan->stops.begin(), plan->stops.end());
    } else {
      if (!request.constraints.tools.empty()) return Status::InvalidArgument("tools need chat messages");
      if (Status s = CheckPromptBytes(request.prompt.size()); !s.ok()) return s;
      Result<GrammarPlan> plain = PlainGrammar(request.constraints);
      if (!plain.ok()) return plain.status();
      grammar = std::move(plain).value();
      tokens = tokenizer_.Raw(request.prompt);
    }
    if (!tokens.ok()) return tokens.status();
    if (tokens->empty()) return Status::InvalidArgument("the prompt is empty");
    if (static_cast<int32_t>(tokens->size()) >= info_.n_ctx) {
      return Status::InvalidArgument("the prompt is " + std::to_string(tokens->size()) +
                                     " tokens, but the context holds " + std::to_string(info_.n_ctx) +
                                     " (prompt and completion together)");
    }
    PendingRequest pending;
    pending.prompt = std::move(tokens).value();
    pending.seed = request.sampling.seed ? *request.sampling.seed : std::random_device{}();
    if (!grammar.grammar.empty()) {
      Result<std::unique_ptr<GrammarSampler>> sampler =
          GrammarSampler::Create(model_.get(), request.sampling, grammar, pending.seed);
      if (!sampler.ok()) return sampler.status();
      pending.grammar = std::move(sampler).value();
    }
    pending.request = std::move(request);
    pending.request.prompt.clear();
    pending.request.messages.clear();
    pending.stream = std::make_shared<GenerationStream>(std::move(reader));
    pending.submitted = submitted;
    auto stream = pending.stream;
    if (Status s = scheduler_->Enqueue(std::move(pending)); !s.ok()) return s;
    return stream;
  }

  ModelInfo Model() const override { return info_; }
  EngineMetrics Metrics() const override { return scheduler_->Metrics(); }
  int32_t CachedTokensFor(uint64_t conversation) const override { return scheduler_->CachedTokensFor(conversation); }
  void Shutdown() override { scheduler_->Stop(); }

 private:
  Status CheckPromptBytes(size_t bytes) const {
    if (bytes <= static_cast<size_t>(options_.max_prompt_bytes)) return Status::Ok();
    return Status::TooLarge("the prompt is " + std::to_string(bytes) + " bytes; the limit is " +
                            std::to_string(options_.max_prompt_bytes));
  }

  std::shared_ptr<llama_model> model_;
  LlamaContextPtr ctx_;
  const llama_vocab* vocab_;
  ModelInfo info_;
  const LlamaEngineOptions options_;
  ChatTemplate chat_template_;
  // The vocabulary is immutable after load, so tokenizing on the caller's thread is safe and
  // keeps the scheduler thread for decoding.
  PromptTokenizer tokenizer_;
  std::unique_ptr<Scheduler> scheduler_;
};

Status ValidateOptions(const LlamaEngineOptions& o) {
  if (o.n_ctx < 16 || o.n_ctx > (1 << 20)) return Status::InvalidArgument("n_ctx must be between 16 and 1048576");
  if (o.n_slots < 1 || o.n_slots > 256) return Status::InvalidArgument("parallel must be between 1 and 256");
  if (o.n_batch < o.n_slots || o.n_batch > 65536)
    return Status::InvalidArgument("n_batch must be at least the number of parallel slots and at most 65536");
  if (o.n_threads < 0 || o.n_threads > 1024) return Status::InvalidArgument("threads must be between 0 and 1024");
  if (o.max_queue < 0) return Status::InvalidArgument("max_queue must not be negative");
  return Status::Ok();
}

}  // namespace

std::string ModelNameFromPath(const std::string& path) {
  std::string base = std::filesystem::path(path).filename().string();
  constexpr std::string_view kExt = ".gguf";
  if (base.size() > kExt.size() && base.compare(base.size() - kExt.size(), kExt.size(), kExt) == 0) {
    base.resize(base.size() - kExt.size());
  }
  return base;
}

Result<std::unique_ptr<Engine>> OpenLlamaEngine(const LlamaEngineOptions& options) {
  if (Status s = ValidateOptions(options); !s.ok()) return s;
  auto start = std::chrono::steady_clock::now();
  ModelLoadOptions lo;
  lo.path = options.model_path;
  lo.n_gpu_layers = options.n_gpu_layers;
  lo.show_progress = options.show_progress;
  Result<LlamaModelPtr> model = LoadModel(lo);
  if (!model.ok()) return model.status();
  return OpenLlamaEngine(options, std::move(model).value(),
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

Result<std::unique_ptr<Engine>> OpenLlamaEngine(const LlamaEngineOptions& options, std::shared_ptr<llama_model> model,
                                                double load_seconds) {
  if (Status s = ValidateOptions(options); !s.ok()) return s;
  auto start = std::chrono::steady_clock::now();
  int32_t threads = options.n_threads > 0 ? options.n_threads
                                          : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  llama_context_params cp = llama_context_default_params();
  cp.n_seq_max = options.n_slots;
  cp.n_ctx = static_cast<uint32_t>(options.n_ctx) * options.n_slots;
  cp.n_batch = options.n_batch;
  cp.n_ubatch = options.n_batch;
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  // Separate KV streams per sequence: requests share no prefix, and llama.cpp computes
  // attention faster that way for independent sequences.
  cp.kv_unified = false;
  cp.no_perf = true;
  LlamaContextPtr ctx(llama_init_from_model(model.get(), cp));
  if (!ctx) return Status::Internal("llama.cpp could not create a context (out of memory?)");

  ModelInfo info = DescribeModel(model.get(), options.model_path);
  info.n_ctx = static_cast<int32_t>(llama_n_ctx_seq(ctx.get()));
  info.n_slots = options.n_slots;
  info.load_seconds = load_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  LN_INFO << "model " << info.name << " loaded (" << info.description << ") in " << info.load_seconds << " s; "
          << options.n_slots << " slots x " << info.n_ctx << " context, " << threads << " threads";
  return std::unique_ptr<Engine>(
      std::make_unique<LlamaEngine>(std::move(model), std::move(ctx), std::move(info), options));
}

}  // namespace llamanet::engine
