// llamanet-mkmodel: writes a small llama-architecture GGUF with random weights for the demo,
// the tests and the benchmarks. See Usage() in cli_options.cc.
#include <chrono>
#include <cstdio>
#include <string_view>
#include <vector>

#include "cli_options.h"
#include "llama.h"
#include "model_maker.h"

namespace llamanet::mkmodel {
namespace {

constexpr int kExitIoError = 1;
constexpr int kExitUsage = 2;

// llama.cpp reports every tensor while quantizing; a tool that prints one summary line shows
// only its errors.
void ErrorsOnly(ggml_log_level level, const char* text, void* /*user_data*/) {
  if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

void PrintSummary(const MakeOptions& options, const MakeSummary& s, double seconds) {
  std::printf("llamanet-mkmodel: wrote %s: preset %s, type %s, %.1f MiB, %.2fM params, seed %llu, %.2f s\n",
              options.output.c_str(), s.spec.preset.c_str(), std::string(WeightTypeName(s.type)).c_str(),
              static_cast<double>(s.file_bytes) / (1024.0 * 1024.0), static_cast<double>(s.params) / 1e6,
              static_cast<unsigned long long>(options.seed), seconds);
}

int Run(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  Result<CliCommand> command = ParseCommandLine(args);
  if (!command.ok()) {
    std::fprintf(stderr, "llamanet-mkmodel: %s\n", command.status().message().c_str());
    return kExitUsage;
  }
  if (command->help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }

  llama_log_set(ErrorsOnly, nullptr);
  const auto start = std::chrono::steady_clock::now();
  Result<MakeSummary> summary = MakeModel(command->options);
  if (!summary.ok()) {
    std::fprintf(stderr, "llamanet-mkmodel: %s\n", summary.status().message().c_str());
    const bool usage = summary.status().code() == Status::Code::kInvalidArgument;
    return usage ? kExitUsage : kExitIoError;
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  PrintSummary(command->options, *summary, elapsed.count());
  return 0;
}

}  // namespace
}  // namespace llamanet::mkmodel

int main(int argc, char** argv) { return llamanet::mkmodel::Run(argc, argv); }
