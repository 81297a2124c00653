// The command line of llamanet-mkmodel, parsed into MakeOptions (kept apart from main.cc so
// tests can check every rejection without running the program).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "model_maker.h"

namespace llamanet::mkmodel {

struct CliCommand {
  bool help = false;  // --help / -h: print Usage() and exit 0; `options` is then unset
  MakeOptions options;
};

// Parses the arguments after the program name:
//   --output PATH [--preset tiny|tinyllama-1.1b] [--type f16|q8_0|q4_0] [--seed N] | --help
// Each flag also takes the form --flag=VALUE. Fails with InvalidArgument and a one-line
// message for an unknown flag, a missing or bad value, or a missing --output.
Result<CliCommand> ParseCommandLine(std::span<const std::string_view> args);

std::string Usage();

}  // namespace llamanet::mkmodel
