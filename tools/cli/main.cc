// llamanet: use and inspect a LlamaNet swarm from the command line (see HelpText).
#include <iostream>

#include "cli_options.h"
#include "core/log.h"

int main(int argc, char** argv) {
  using namespace llamanet::cli;
  llamanet::Result<CliOptions> options = ParseCommandLine(argc, argv);
  if (!options.ok()) {
    std::cerr << "llamanet: " << options.status().message() << "\nRun 'llamanet --help' for usage.\n";
    return kExitUsage;
  }
  const CliOptions& o = *options;
  if (o.help) {
    std::cout << HelpText(o.command);
    return kExitOk;
  }
  llamanet::log::SetNodeName("llamanet");
  llamanet::log::SetVerbose(o.verbose);
  if (o.command == "generate") return RunGenerate(o);
  if (o.command == "chat") return RunChat(o);
  if (o.command == "nodes") return RunNodes(o);
  return RunStatus(o);
}
