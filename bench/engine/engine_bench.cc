// Engine throughput against raw llama_decode, the ceiling, per batch size, in one run on one
// model. For each batch size B:
//   raw: B sequences decoded together by a bare loop (greedy argmax on the host; prompts
//        excluded from timing), in a context shaped like the engine's (B sequences, same
//        positions per sequence, separate KV streams);
//   engine: B concurrent greedy requests to an engine opened with B slots, counted while all
//        of them generate;
//   backend (with --backend-sampling 1): the raw loop with llama.cpp's backend greedy sampler
//        attached to every sequence, so the argmax runs in the graph and the host reads tokens.
// Each figure is the best of --rounds interleaved runs; "by cpu" is engine/raw from CPU time
// per token, which other programs on the machine disturb much less than wall time. With
// --raw-reuse 1 the raw loop empties its sequences one by one between runs (llama_memory_seq_rm,
// as the engine frees a slot) instead of clearing the whole cache. Not a test.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/llama_engine.h"
#include "engine/llama_handles.h"
#include "engine/model_loader.h"
#include "engine/sampler_chain.h"
#include "engine/token_sampler.h"

namespace {

using namespace llamanet::engine;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string model = "models/tinyllama-1.1b-q4_0.gguf";
  int threads = 2;
  int prompt_tokens = 32;
  int new_tokens = 32;
  std::vector<int> batches = {1, 4, 16, 32, 64};
  int rounds = 3;
  bool backend_sampling = false;
  bool raw_reuse = false;
};

// What the engine and the raw loop share, so that they decode over the same context shape.
struct Shape {
  int seqs;
  int ctx_per_seq;
  int n_batch;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU seconds this process has used, all threads together.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// One timed run: generated tokens per wall second, and CPU seconds per generated token (which
// other programs on the machine move much less than wall time).
struct Speed {
  double tokens_per_s = 0;
  double cpu_per_token = 0;
};

// The best of several runs, figure by figure.
void KeepBest(Speed& best, const Speed& s) {
  best.tokens_per_s = std::max(best.tokens_per_s, s.tokens_per_s);
  if (best.cpu_per_token == 0 || s.cpu_per_token < best.cpu_per_token) best.cpu_per_token = s.cpu_per_token;
}

Shape ShapeFor(const Args& a, int seqs) {
  // All prompts fit in one decode, so that every sequence starts generating in the same step,
  // as in the raw loop.
  return {seqs, a.prompt_tokens + a.new_tokens + 16, std::max(512, seqs * (a.prompt_tokens + 8))};
}

std::vector<llama_token> PromptTokens(const llama_vocab* vocab, int n, int variant) {
  std::string text = "Request " + std::to_string(variant) +
                     ": the history of distributed computing spans many decades of research into networks, "
                     "consensus, storage and the scheduling of work across machines that fail";
  std::vector<llama_token> tokens(text.size() + 8);
  int got = llama_tokenize(vocab, text.c_str(), static_cast<int>(text.size()), tokens.data(),
                           static_cast<int>(tokens.size()), true, false);
  tokens.resize(std::max(got, 0));
  while (static_cast<int>(tokens.size()) < n) tokens.push_back(tokens.back());
  tokens.resize(n);
  return tokens;
}

// A bare decode loop over one context; Run() returns generated tokens/s over all sequences.
class RawDecoder {
 public:
  RawDecoder(const Args& a, llama_model* model, Shape shape, bool backend_sampling)
      : a_(a), shape_(shape), vocab_(llama_model_get_vocab(model)), batch_(shape.n_batch, 1) {
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(shape.ctx_per_seq * shape.seqs);
    cp.n_seq_max = shape.seqs;
    cp.n_batch = shape.n_batch;
    cp.n_ubatch = shape.n_batch;
    cp.n_threads = a.threads;
    cp.n_threads_batch = a.threads;
    cp.kv_unified = false;
    cp.no_perf = true;
    std::vector<llama_sampler_seq_config> configs;
    if (backend_sampling) {
      for (int s = 0; s < shape.seqs; ++s) {
        samplers_.emplace_back(llama_sampler_chain_init(llama_sampler_chain_default_params()));
        llama_sampler_chain_add(samplers_.back().get(), llama_sampler_init_greedy());
        configs.push_back({s, samplers_.back().get()});
      }
      cp.samplers = configs.data();
      cp.n_samplers = configs.size();
    }
    ctx_.reset(llama_init_from_model(model, cp));
    if (!ctx_) {
      std::fprintf(stderr, "engine_bench: could not create a raw context\n");
      std::exit(1);
    }
    backend_ = backend_sampling;
  }

  Speed Run() {
    const int seqs = shape_.seqs;
    llama_memory_t memory = llama_get_memory(ctx_.get());
    if (a_.raw_reuse) {
      for (int s = 0; s < seqs; ++s) llama_memory_seq_rm(memory, s, -1, -1);
    } else {
      llama_memory_clear(memory, true);
    }
    std::vector<llama_token> last(seqs);
    batch_.Clear();
    for (int s = 0; s < seqs; ++s) {
      std::vector<llama_token> prompt = PromptTokens(vocab_, a_.prompt_tokens, s);
      for (int i = 0; i < a_.prompt_tokens; ++i) batch_.Add(prompt[i], i, s, i + 1 == a_.prompt_tokens);
    }
    Decode();
    for (int s = 0; s < seqs; ++s) last[s] = Pick((s + 1) * a_.prompt_tokens - 1);
    auto start = Clock::now();
    double cpu_start = CpuSeconds();
    for (int step = 0; step < a_.new_tokens - 1; ++step) {
      batch_.Clear();
      for (int s = 0; s < seqs; ++s) batch_.Add(last[s], a_.prompt_tokens + step, s, true);
      Decode();
      for (int s = 0; s < seqs; ++s) last[s] = Pick(s);
    }
    double tokens = seqs * (a_.new_tokens - 1);
    return {tokens / Seconds(Clock::now() - start), (CpuSeconds() - cpu_start) / tokens};
  }

 private:
  void Decode() {
    if (llama_decode(ctx_.get(), batch_.get()) != 0) {
      std::fprintf(stderr, "engine_bench: raw decode failed\n");
      std::exit(1);
    }
  }

  llama_token Pick(int idx) {
    if (backend_) return llama_get_sampled_token_ith(ctx_.get(), idx);
    const float* logits = llama_get_logits_ith(ctx_.get(), idx);
    const int n_vocab = llama_vocab_n_tokens(vocab_);
    int best = 0;
    for (int t = 1; t < n_vocab; ++t) {
      if (logits[t] > logits[best]) best = t;
    }
    return best;
  }

  const Args& a_;
  Shape shape_;
  const llama_vocab* vocab_;
  LlamaBatch batch_;
  std::vector<LlamaSamplerPtr> samplers_;  // must outlive the context that uses them
  LlamaContextPtr ctx_;
  bool backend_ = false;
};

std::unique_ptr<Engine> OpenEngine(const Args& a, Shape shape) {
  LlamaEngineOptions eo;
  eo.model_path = a.model;
  eo.n_slots = shape.seqs;
  eo.n_ctx = shape.ctx_per_seq;
  eo.n_batch = shape.n_batch;
  eo.n_threads = a.threads;
  eo.show_progress = false;
  auto engine = OpenLlamaEngine(eo);
  if (!engine.ok()) {
    std::fprintf(stderr, "engine_bench: %s\n", engine.status().message().c_str());
    std::exit(1);
  }
  return std::move(*engine);
}

// Runs `n` concurrent greedy engine requests; returns generated tokens/s over all of them
// while all of them generate: from the poll that finds every stream past its first token to
// the poll that finds the first one done. The scheduler may admit a burst over two steps, and
// the step that holds the late prompts is prompt processing, which the raw figure excludes.
Speed EngineRun(Engine& engine, const Args& a, const llama_vocab* vocab, int n) {
  std::vector<GenerationRequest> requests(n);
  for (int i = 0; i < n; ++i) {
    GenerationRequest& r = requests[i];
    for (llama_token t : PromptTokens(vocab, a.prompt_tokens, i)) {
      char buf[64];
      int len = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, false);
      r.prompt.append(buf, std::max(len, 0));
    }
    r.max_tokens = a.new_tokens;
    r.ignore_eos = true;
    r.sampling.temperature = 0;
    r.sampling.repeat_penalty = 1.0f;
    r.sampling.seed = static_cast<uint32_t>(i);
  }
  std::vector<std::shared_ptr<GenerationStream>> streams;
  for (GenerationRequest& r : requests) {
    auto s = engine.Submit(std::move(r));
    if (!s.ok()) {
      std::fprintf(stderr, "engine_bench: submit failed: %s\n", s.status().ToString().c_str());
      std::exit(1);
    }
    streams.push_back(*s);
  }
  // One consumer polls every stream, as a server's event loop would; tokens_generated counts
  // tokens whose text was held back too.
  std::vector<int32_t> tokens(n, 0);
  std::vector<bool> done(n, false);
  Clock::time_point start, end;
  double cpu_start = 0, cpu_end = 0;
  int64_t at_start = -1, at_end = -1;
  int finished = 0;
  while (finished < n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (int i = 0; i < n; ++i) {
      if (done[i]) continue;
      while (std::optional<GenerationEvent> e = streams[i]->Next(std::chrono::milliseconds(0))) {
        tokens[i] = e->tokens_generated;
        if (e->done) {
          done[i] = true;
          ++finished;
          break;
        }
      }
    }
    auto now = Clock::now();
    int64_t total = 0;
    bool all_started = true;
    for (int i = 0; i < n; ++i) {
      total += tokens[i];
      all_started = all_started && tokens[i] > 0;
    }
    if (at_start < 0 && all_started && finished == 0) {
      start = now;
      cpu_start = CpuSeconds();
      at_start = total;
    }
    if (at_end < 0 && finished > 0) {
      end = now;
      cpu_end = CpuSeconds();
      at_end = total;
    }
  }
  if (at_start < 0 || at_end <= at_start) {
    std::fprintf(stderr, "engine_bench: the run was too short to time; raise --new-tokens\n");
    std::exit(1);
  }
  double counted = static_cast<double>(at_end - at_start);
  return {counted / Seconds(end - start), (cpu_end - cpu_start) / counted};
}

// Host time per pick, llama.cpp's chain (llama_sampler_sample) against TokenSampler, on real
// logits of this model, for greedy, greedy with penalties and a banned token, and the default
// seeded draw.
void PrintSamplingCost(const Args& a, llama_model* model) {
  const llama_vocab* vocab = llama_model_get_vocab(model);
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 256;
  cp.n_threads = a.threads;
  cp.n_threads_batch = a.threads;
  cp.no_perf = true;
  LlamaContextPtr ctx(llama_init_from_model(model, cp));
  std::vector<llama_token> prompt = PromptTokens(vocab, a.prompt_tokens, 0);
  LlamaBatch batch(a.prompt_tokens, 1);
  for (int i = 0; i < a.prompt_tokens; ++i) batch.Add(prompt[i], i, 0, true);
  if (!ctx || llama_decode(ctx.get(), batch.get()) != 0) {
    std::fprintf(stderr, "engine_bench: could not decode for the sampling figures\n");
    std::exit(1);
  }
  SamplingParams greedy;
  greedy.temperature = 0;
  greedy.repeat_penalty = 1.0f;
  SamplingParams penalized = greedy;
  penalized.repeat_penalty = 1.1f;
  const std::vector<std::pair<const char*, SamplingParams>> cases = {
      {"greedy", greedy}, {"greedy, penalties, 1 banned", penalized}, {"default draw", SamplingParams{}}};
  constexpr int kPicks = 2000;
  std::printf("host time per pick, %d-token vocabulary    llama chain us   TokenSampler us   speed-up\n",
              llama_vocab_n_tokens(vocab));
  for (const auto& [name, p] : cases) {
    const std::vector<llama_token> banned = {prompt[1]};
    LlamaSamplerPtr chain = MakeLlamaChain(vocab, p, banned, 1);
    TokenSampler sampler(vocab, p, banned, 1);
    for (llama_token t : prompt) {
      llama_sampler_accept(chain.get(), t);
      sampler.Accept(t);
    }
    auto start = Clock::now();
    for (int i = 0; i < kPicks; ++i) llama_sampler_sample(chain.get(), ctx.get(), i % a.prompt_tokens);
    double chain_us = Seconds(Clock::now() - start) * 1e6 / kPicks;
    start = Clock::now();
    for (int i = 0; i < kPicks; ++i) sampler.Sample(llama_get_logits_ith(ctx.get(), i % a.prompt_tokens));
    double ours_us = Seconds(Clock::now() - start) * 1e6 / kPicks;
    std::printf("  %-40s %14.1f %17.1f %10.1fx\n", name, chain_us, ours_us, chain_us / ours_us);
  }
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    int v = std::atoi(item.c_str());
    if (v > 0) out.push_back(v);
  }
  return out;
}

bool ParseArgs(int argc, char** argv, Args& a) {
  if (argc % 2 == 0) return false;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") a.model = v;
    else if (k == "--threads") a.threads = std::atoi(v.c_str());
    else if (k == "--prompt-tokens") a.prompt_tokens = std::max(2, std::atoi(v.c_str()));
    else if (k == "--new-tokens") a.new_tokens = std::max(2, std::atoi(v.c_str()));
    else if (k == "--batches") a.batches = ParseList(v);
    else if (k == "--rounds") a.rounds = std::max(1, std::atoi(v.c_str()));
    else if (k == "--backend-sampling") a.backend_sampling = v == "1";
    else if (k == "--raw-reuse") a.raw_reuse = v == "1";
    else return false;
  }
  return !a.batches.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, a)) {
    std::fprintf(stderr,
                 "usage: engine_bench [--model PATH] [--threads N] [--prompt-tokens N] [--new-tokens N]\n"
                 "                    [--batches 1,4,16,32,64] [--rounds N] [--backend-sampling 0|1] [--raw-reuse 0|1]\n");
    return 2;
  }
  llama_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
  ModelLoadOptions lo;
  lo.path = a.model;
  lo.show_progress = false;
  auto model = LoadModel(lo);
  if (!model.ok()) {
    std::fprintf(stderr, "engine_bench: %s\n", model.status().message().c_str());
    return 2;
  }
  const llama_vocab* vocab = llama_model_get_vocab(model->get());
  std::printf("model %s, %d threads, %d-token prompts, %d new tokens, greedy, EOS ignored, best of %d rounds\n",
              a.model.c_str(), a.threads, a.prompt_tokens, a.new_tokens, a.rounds);
  std::printf("%6s %12s %12s %10s %14s %14s %10s", "batch", "raw tok/s", "engine tok/s", "engine/raw", "raw cpu us/tok",
              "eng cpu us/tok", "by cpu");
  if (a.backend_sampling) std::printf(" %14s %12s", "backend tok/s", "backend/raw");
  std::printf("\n");
  for (int b : a.batches) {
    Shape shape = ShapeFor(a, b);
    std::unique_ptr<Engine> engine = OpenEngine(a, shape);
    RawDecoder raw(a, model->get(), shape, false);
    std::unique_ptr<RawDecoder> backend;
    if (a.backend_sampling) backend = std::make_unique<RawDecoder>(a, model->get(), shape, true);
    EngineRun(*engine, a, vocab, b);  // warm-up: weights paged in, graphs allocated
    raw.Run();
    if (backend) backend->Run();
    Speed raw_best, engine_best, backend_best;
    for (int round = 0; round < a.rounds; ++round) {
      KeepBest(raw_best, raw.Run());
      KeepBest(engine_best, EngineRun(*engine, a, vocab, b));
      if (backend) KeepBest(backend_best, backend->Run());
    }
    // "by cpu": engine/raw from CPU time per token, the figure a busy machine disturbs least.
    std::printf("%6d %12.1f %12.1f %10.3f %14.1f %14.1f %10.3f", b, raw_best.tokens_per_s, engine_best.tokens_per_s,
                engine_best.tokens_per_s / raw_best.tokens_per_s, raw_best.cpu_per_token * 1e6,
                engine_best.cpu_per_token * 1e6, raw_best.cpu_per_token / engine_best.cpu_per_token);
    if (backend) {
      std::printf(" %14.1f %12.3f", backend_best.tokens_per_s, backend_best.tokens_per_s / raw_best.tokens_per_s);
    }
    std::printf("\n");
    std::fflush(stdout);
    engine->Shutdown();
  }
  PrintSamplingCost(a, model->get());
  return 0;
}
