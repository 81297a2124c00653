#include "node_process.h"

#include "free_port.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace llamanet::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

Result<std::unique_ptr<NodeProcess>> NodeProcess::Start(const NodeSpec& spec, std::chrono::seconds ready_within) {
  std::unique_ptr<NodeProcess> p(new NodeProcess());
  p->node_id_ = spec.node_id;
  p->dht_port_ = FreeLoopbackPort(SOCK_DGRAM);  // must be known to bootstrap peers
  p->log_path_ = spec.dir + "/" + spec.node_id + ".log";
  std::vector<std::string> args = {spec.node_bin,        "--model-path", spec.model_path,
                                   "--host",             "127.0.0.1",    "--port",
                                   "0",                  "--dht-port",   std::to_string(p->dht_port_),
                                   "--node-id",          spec.node_id,   "--key-file",
                                   spec.dir + "/" + spec.node_id + ".key",
                                   "--heartbeat-interval", std::to_string(spec.heartbeat_s),
                                   "--parallel",         std::to_string(spec.parallel),
                                   "--threads",          "1",            "--n-ctx",
                                   "512"};
  if (!spec.bootstrap.empty()) {
    std::string list;
    for (const std::string& b : spec.bootstrap) list += (list.empty() ? "" : ",") + b;
    args.insert(args.end(), {"--bootstrap-nodes", list});
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, p->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const int err = posix_spawn(&p->pid_, spec.node_bin.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    p->pid_ = -1;
    return Status::IoError("cannot start " + spec.node_bin + ": " + std::strerror(err));
  }

  const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
  const auto deadline = std::chrono::steady_clock::now() + ready_within;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string log = ReadFile(p->log_path_);
    if (std::regex_search(log, m, listening)) {
      p->http_port_ = std::stoi(m[1]);
      return p;
    }
    int status = 0;
    if (::waitpid(p->pid_, &status, WNOHANG) == p->pid_) {
      p->pid_ = -1;
      return Status::IoError(spec.node_id + " exited early:\n" + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::DeadlineExceeded(spec.node_id + " did not listen in time:\n" + p->LogTail());
}

NodeProcess::~NodeProcess() { Kill9(); }

void NodeProcess::Kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string NodeProcess::LogTail() const {
  const std::string log = ReadFile(log_path_);
  return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/llamanet-client-XXXXXX";
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace llamanet::testing
