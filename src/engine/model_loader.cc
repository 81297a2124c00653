#include "engine/model_loader.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

#include "core/log.h"
#include "engine/llama_engine.h"
#include "ggml-backend.h"

namespace llamanet::engine {
namespace {

struct Progress {
  bool tty = false;
  int last_shown = -1;  // percent (tty) or quarter (plain lines)
};

bool OnProgress(float fraction, void* user) {
  auto* p = static_cast<Progress*>(user);
  int percent = static_cast<int>(fraction * 100.0f + 0.5f);
  if (p->tty) {
    if (percent == p->last_shown) return true;
    p->last_shown = percent;
    constexpr int kWidth = 40;
    int filled = percent * kWidth / 100;
    std::fprintf(stderr, "\rloading model [%-*s] %3d%%", kWidth, std::string(filled, '#').c_str(), percent);
    if (percent >= 100) std::fputc('\n', stderr);
    std::fflush(stderr);
  } else {
    int quarter = percent / 25;
    if (quarter == p->last_shown) return true;
    p->last_shown = quarter;
    LN_INFO << "loading model: " << quarter * 25 << "%";
  }
  return true;
}

void OnLlamaLog(ggml_log_level level, const char* text, void*) {
  // llama.cpp logs in fragments; whole lines are what matter to an operator.
  static std::mutex mu;
  static std::string line;
  std::lock_guard<std::mutex> lock(mu);
  line += text;
  if (line.empty() || line.back() != '\n') return;
  line.pop_back();
  // Our own messages say what failed in words a user can act on; llama.cpp's detail is for
  // --verbose.
  LN_DEBUG << "llama.cpp" << (level == GGML_LOG_LEVEL_ERROR ? " error: " : level == GGML_LOG_LEVEL_WARN ? " warning: " : ": ")
           << line;
  line.clear();
}

}  // namespace

void InitLlamaBackend() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(OnLlamaLog, nullptr);
    // A build with GGML_BACKEND_DL registers no backend until its module is loaded (from
    // GGML_BACKEND_DIR or beside the executable); a static build has them all registered.
    if (ggml_backend_reg_count() == 0) ggml_backend_load_all();
    llama_backend_init();
  });
}

ModelInfo DescribeModel(const llama_model* model, const std::string& path) {
  ModelInfo info;
  info.path = path;
  info.name = ModelNameFromPath(path);
  char desc[256];
  llama_model_desc(model, desc, sizeof desc);
  info.description = desc;
  info.n_params = llama_model_n_params(model);
  info.size_bytes = llama_model_size(model);
  info.n_ctx_train = llama_model_n_ctx_train(model);
  info.n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  return info;
}

Result<LlamaModelPtr> LoadModel(const ModelLoadOptions& options) {
  InitLlamaBackend();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options.path, ec)) {
    return Status::NotFound("model file not found: " + options.path);
  }
  if (access(options.path.c_str(), R_OK) != 0) {
    return Status::NotFound("model file is not readable: " + options.path);
  }
  Progress progress;
  progress.tty = isatty(STDERR_FILENO) == 1;
  llama_model_params params = llama_model_default_params();
  params.n_gpu_layers = options.n_gpu_layers;
  if (options.show_progress) {
    params.progress_callback = OnProgress;
    params.progress_callback_user_data = &progress;
  }
  LlamaModelPtr model(llama_model_load_from_file(options.path.c_str(), params));
  if (!model) {
    return Status::InvalidArgument("llama.cpp could not load the model (not a valid GGUF?): " + options.path);
  }
  return model;
}

}  // namespace llamanet::engine
