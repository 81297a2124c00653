// Engine throughput against raw llama_decode, the ceiling, in one run on one model:
//   raw: 1 sequence, then 4 sequences in one batch (greedy, prompt excluded from timing)
//   engine: 1 request, then 4 concurrent requests (same prompt length and token count)
// Prints tokens/s and engine/raw ratios. Not a test: timings here are noisy.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "engine/llama_engine.h"
#include "engine/llama_handles.h"
#include "engine/model_loader.h"

namespace {

using namespace llamanet::engine;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string model = "models/tinyllama-1.1b-q4_0.gguf";
  int threads = 2;
  int prompt_tokens = 32;
  int new_tokens = 64;
  int parallel = 4;
  int rounds = 3;  // each figure is the best of this many runs, interleaved, to damp noise
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

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

// Greedy decoding of `seqs` sequences together; returns generated tokens/s over all of them.
double RawDecode(const Args& a, llama_model* model, int seqs) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 256 * seqs;
  cp.n_seq_max = seqs;
  cp.n_batch = 512;
  cp.n_ubatch = 512;
  cp.n_threads = a.threads;
  cp.n_threads_batch = a.threads;
  cp.kv_unified = false;
  cp.no_perf = true;
  LlamaContextPtr ctx(llama_init_from_model(model, cp));
  const llama_vocab* vocab = llama_model_get_vocab(model);
  const int n_vocab = llama_vocab_n_tokens(vocab);
  LlamaBatch batch(512, 1);
  std::vector<llama_token> last(seqs);
  for (int s = 0; s < seqs; ++s) {
    std::vector<llama_token> prompt = PromptTokens(vocab, a.prompt_tokens, s);
    for (int i = 0; i < a.prompt_tokens; ++i) batch.Add(prompt[i], i, s, i + 1 == a.prompt_tokens);
  }
  llama_decode(ctx.get(), batch.get());
  auto argmax = [&](int idx) {
    const float* logits = llama_get_logits_ith(ctx.get(), idx);
    int best = 0;
    for (int t = 1; t < n_vocab; ++t) if (logits[t] > logits[best]) best = t;
    return best;
  };
  for (int s = 0; s < seqs; ++s) last[s] = argmax((s + 1) * a.prompt_tokens - 1);
  auto start = Clock::now();
  for (int step = 0; step < a.new_tokens - 1; ++step) {
    batch.Clear();
    for (int s = 0; s < seqs; ++s) batch.Add(last[s], a.prompt_tokens + step, s, true);
    if (llama_decode(ctx.get(), batch.get()) != 0) {
      std::fprintf(stderr, "raw decode failed\n");
      std::exit(1);
    }
    for (int s = 0; s < seqs; ++s) last[s] = argmax(s);
  }
  return seqs * (a.new_tokens - 1) / Seconds(Clock::now() - start);
}

// Runs `n` concurrent engine requests; returns generated tokens/s over all of them, counted
// from the first token on (so that, like the raw figure, prompt processing is excluded).
double EngineRun(Engine& engine, const Args& a, const llama_vocab* vocab, int n, double* ttft) {
  std::vector<std::shared_ptr<GenerationStream>> streams;
  for (int i = 0; i < n; ++i) {
    GenerationRequest r;
    std::vector<llama_token> prompt = PromptTokens(vocab, a.prompt_tokens, i);
    for (llama_token t : prompt) {
      char buf[64];
      int len = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, false);
      r.prompt.append(buf, std::max(len, 0));
    }
    r.max_tokens = a.new_tokens;
    r.ignore_eos = true;
    r.sampling.temperature = 0;
    r.sampling.repeat_penalty = 1.0f;
    auto s = engine.Submit(r);
    if (!s.ok()) {
      std::fprintf(stderr, "submit failed: %s\n", s.status().ToString().c_str());
      std::exit(1);
    }
    streams.push_back(*s);
  }
  double first = 1e9, last = 0, generated = 0;
  for (auto& s : streams) {
    GenerationEvent e = s->Collect();
    first = std::min(first, e.result.first_token_seconds);
    last = std::max(last, e.result.generation_seconds);
    generated += e.result.completion_tokens - 1;
  }
  *ttft = first;
  return generated / (last - first);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--model") a.model = argv[i + 1];
    else if (k == "--threads") a.threads = std::atoi(argv[i + 1]);
    else if (k == "--new-tokens") a.new_tokens = std::atoi(argv[i + 1]);
    else if (k == "--rounds") a.rounds = std::max(1, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: engine_bench [--model PATH] [--threads N] [--new-tokens N] [--rounds N]\n");
      return 2;
    }
  }
  ModelLoadOptions lo;
  lo.path = a.model;
  lo.show_progress = false;
  auto model = LoadModel(lo);
  if (!model.ok()) {
    std::fprintf(stderr, "engine_bench: %s\n", model.status().message().c_str());
    return 2;
  }
  const llama_vocab* vocab = llama_model_get_vocab(model->get());
  std::printf("model %s, %d threads, %d-token prompts, %d new tokens, greedy, EOS ignored\n", a.model.c_str(),
              a.threads, a.prompt_tokens, a.new_tokens);
  LlamaEngineOptions eo;
  eo.model_path = a.model;
  eo.n_slots = a.parallel;
  eo.n_ctx = 256;
  eo.n_threads = a.threads;
  eo.show_progress = false;
  auto engine = OpenLlamaEngine(eo);
  if (!engine.ok()) {
    std::fprintf(stderr, "engine_bench: %s\n", engine.status().message().c_str());
    return 1;
  }
  double ttft = 0;
  EngineRun(**engine, a, vocab, 1, &ttft);  // warm-up: weights paged in, graphs allocated
  double raw1 = 0, raw4 = 0, eng1 = 0, eng4 = 0, ttft1 = 1e9, ttft4 = 1e9;
  for (int round = 0; round < a.rounds; ++round) {
    raw1 = std::max(raw1, RawDecode(a, model->get(), 1));
    eng1 = std::max(eng1, EngineRun(**engine, a, vocab, 1, &ttft));
    ttft1 = std::min(ttft1, ttft);
    raw4 = std::max(raw4, RawDecode(a, model->get(), a.parallel));
    eng4 = std::max(eng4, EngineRun(**engine, a, vocab, a.parallel, &ttft));
    ttft4 = std::min(ttft4, ttft);
  }
  std::printf("best of %d interleaved rounds\n", a.rounds);
  std::printf("raw llama_decode   1 sequence : %7.1f tok/s\n", raw1);
  std::printf("raw llama_decode   %d in batch : %7.1f tok/s (aggregate)\n", a.parallel, raw4);
  std::printf("engine             1 request  : %7.1f tok/s  (first token %.0f ms)  ratio engine/raw %.3f (goal >= 0.95)\n",
              eng1, ttft1 * 1000, eng1 / raw1);
  std::printf("engine             %d requests : %7.1f tok/s  (first token %.0f ms)  ratio engine/raw %.3f (goal >= 0.90)\n",
              a.parallel, eng4, ttft4 * 1000, eng4 / raw4);
  return 0;
}
