// The `llamanet` command line: its options (flag > environment variable > default), help
// texts and exit codes. Each subcommand lives in its own cmd_*.cc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llamanet/client.h"

namespace llamanet::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 2,   // bad usage: unknown command or flag, bad value, missing argument
  kExitNoNode = 3,  // no node available
  kExitFailed = 4,  // the request failed
};

struct CliOptions {
  std::string command;            // generate, chat, nodes, status; empty with --help alone
  std::vector<std::string> args;  // positional arguments after the command
  std::vector<std::string> bootstrap_nodes;
  std::string model;
  int32_t max_tokens = 100;
  double temperature = 0.7;
  double min_tps = 0;
  double max_load = 1;
  double timeout_s = 30;
  std::string api_key;
  std::vector<std::string> trusted_nodes;  // HTTP addresses that get api_key
  std::string swarm_secret;
  std::string system_prompt;  // chat
  bool watch = false;         // nodes
  double interval_s = 2;      // nodes --watch
  bool json = false;
  bool verbose = false;
  bool help = false;
};

// Reads argv (flags may stand before or after the command) and the environment
// (BOOTSTRAP_NODES, LLAMANET_API_KEY, LLAMANET_TRUSTED_NODES, LLAMANET_SWARM_SECRET).
// InvalidArgument names the bad flag or value.
Result<CliOptions> ParseCommandLine(int argc, char** argv);

// The help text of `command` (empty: the overview).
std::string HelpText(const std::string& command);

ClientOptions ToClientOptions(const CliOptions& o);
SamplingParams ToSampling(const CliOptions& o);

// Prints "llamanet: error: <message>" on stderr; returns the exit code of `s`: 3 for
// kNotFound (no node available), 4 otherwise.
int Fail(const Status& s);

// Creates the client, or prints why not (exit code in *exit_code). Commands that need the
// swarm (requires_bootstrap) refuse to start without bootstrap nodes: exit code 2.
std::unique_ptr<Client> MakeClient(const CliOptions& o, bool requires_bootstrap, int* exit_code);

int RunGenerate(const CliOptions& o);
int RunChat(const CliOptions& o);
int RunNodes(const CliOptions& o);
int RunStatus(const CliOptions& o);

}  // namespace llamanet::cli
