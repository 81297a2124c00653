#include "cli_options.h"

#include <charconv>
#include <optional>

namespace llamanet::mkmodel {
namespace {

Result<uint64_t> ParseSeed(std::string_view text) {
  uint64_t seed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::InvalidArgument("bad --seed '" + std::string(text) + "' (want an unsigned 64-bit integer)");
  }
  return seed;
}

// Applies one flag's value to `options`.
Status ApplyFlag(std::string_view flag, std::string_view value, MakeOptions& options) {
  if (flag == "--output") {
    if (value.empty()) return Status::InvalidArgument("--output needs a value (see --help)");
    options.output = std::string(value);
  } else if (flag == "--preset") {
    // Checked here rather than in MakeModel, so a typo is a usage error before any work.
    if (Result<ModelSpec> spec = FindPreset(value); !spec.ok()) return spec.status();
    options.preset = std::string(value);
  } else if (flag == "--type") {
    Result<WeightType> type = ParseWeightType(value);
    if (!type.ok()) return type.status();
    options.type = *type;
  } else if (flag == "--seed") {
    Result<uint64_t> seed = ParseSeed(value);
    if (!seed.ok()) return seed.status();
    options.seed = *seed;
  } else {
    return Status::InvalidArgument("unknown option '" + std::string(flag) + "' (see --help)");
  }
  return Status::Ok();
}

}  // namespace

Result<CliCommand> ParseCommandLine(std::span<const std::string_view> args) {
  CliCommand command;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    if (flag == "--help" || flag == "-h") {
      command.help = true;
      return command;
    }
    if (!flag.starts_with("--")) {
      return Status::InvalidArgument("unexpected argument '" + std::string(flag) + "' (see --help)");
    }
    std::optional<std::string_view> value;
    if (const size_t eq = flag.find('='); eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < args.size() && !args[i + 1].starts_with("--")) {
      value = args[++i];
    }
    if (!value) return Status::InvalidArgument(std::string(flag) + " needs a value (see --help)");
    if (Status s = ApplyFlag(flag, *value, command.options); !s.ok()) return s;
  }
  if (command.options.output.empty()) return Status::InvalidArgument("--output PATH is required (see --help)");
  return command;
}

std::string Usage() {
  return "usage: llamanet-mkmodel --output PATH [--preset tiny|tinyllama-1.1b] [--type f16|q8_0|q4_0]\n"
         "                        [--seed N]\n"
         "\n"
         "Writes a llama-architecture GGUF model with seeded random weights and a real\n"
         "SentencePiece-style tokenizer (byte fallback, BOS/EOS, ChatML chat template).\n"
         "The same seed always gives the same file.\n"
         "\n"
         "  --output PATH   where to write the model (written atomically: temp file + rename)\n"
         "  --preset NAME   tiny (default; 128 wide, 4 layers, 1024 tokens, a few MB) or\n"
         "                  tinyllama-1.1b (TinyLlama-1.1B shapes, 32000 tokens)\n"
         "  --type TYPE     f16 (default), q8_0 or q4_0 (quantized with llama.cpp)\n"
         "  --seed N        random seed, an unsigned 64-bit integer (default 1)\n"
         "  --help, -h      show this text\n"
         "\n"
         "Exit status: 0 on success, 1 if the model cannot be written, 2 on bad usage.\n";
}

}  // namespace llamanet::mkmodel
