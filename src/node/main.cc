// llamanet-node: serves a GGUF model to the swarm. Exit codes: 0 after a clean stop
// (SIGINT/SIGTERM), 2 for bad configuration (flags, variables, model file, taken port),
// 1 for any other failure.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <thread>

#include "core/log.h"
#include "node/config.h"
#include "node/node.h"

namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(3);

int ExitCodeFor(const llamanet::Status& s) {
  using Code = llamanet::Status::Code;
  switch (s.code()) {
    case Code::kInvalidArgument:
    case Code::kMalformed:
    case Code::kNotFound:
    case Code::kUnavailable: return 2;
    default: return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace llamanet;
  // Signals go to one waiting thread, never to a thread inside llama.cpp or httplib.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Every open connection holds a descriptor: take the most the system allows, so that the
  // connection caps (--max-connections), not the default soft limit of 1024, decide.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  Result<node::ParsedCommandLine> parsed =
      node::ParseConfig(std::vector<std::string>(argv + 1, argv + argc), node::ProcessEnv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "llamanet-node: %s\n", parsed.status().message().c_str());
    return 2;
  }
  if (parsed->print_and_exit) {
    std::fputs(parsed->print_and_exit->c_str(), stdout);
    return 0;
  }
  const node::NodeConfig& config = parsed->config;
  log::SetVerbose(config.verbose);
  if (!config.node_id.empty()) log::SetNodeName(config.node_id);

  Result<std::unique_ptr<node::Node>> created = node::Node::Create(config);
  if (!created.ok()) {
    std::fprintf(stderr, "llamanet-node: %s\n", created.status().message().c_str());
    return ExitCodeFor(created.status());
  }
  std::unique_ptr<node::Node> node = std::move(created).value();
  log::SetNodeName(node->node_id());

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    LN_INFO << "received " << (sig == SIGINT ? "SIGINT" : "SIGTERM");
    node->Shutdown(kShutdownGrace);
  });
  node->Run();
  // Run() also returns if the server fails; make sure the waiter can finish either way.
  node->Shutdown(kShutdownGrace);
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  LN_INFO << "stopped";
  return 0;
}
