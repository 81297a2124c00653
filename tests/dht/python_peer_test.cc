// Runs two C++ DHT nodes on 127.0.0.1 and the Python peer (python_peer.py, stdlib only)
// against them; then checks from the C++ side what the Python peer did. Exit codes: 0 pass,
// 1 fail (python3 missing fails too: a test that cannot run must not pass).
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "dht/dht_node.h"

extern char** environ;

namespace llamanet::dht {
namespace {

using namespace std::chrono_literals;

int Fail(const std::string& why) {
  std::fprintf(stderr, "FAIL: %s\n", why.c_str());
  return 1;
}

std::unique_ptr<DhtNode> StartNode(const std::vector<std::string>& bootstrap) {
  DhtOptions o;
  o.bind_host = "127.0.0.1";
  o.bind_port = 0;
  o.rpc_timeout_ms = 300;
  o.bootstrap = bootstrap;
  auto node = DhtNode::Create(o);
  if (!node.ok() || !(*node)->Start().ok()) return nullptr;
  return std::move(node).value();
}

int Run(const char* script) {
  auto a = StartNode({});
  if (!a) return Fail("cannot start node A");
  auto b = StartNode({"127.0.0.1:" + std::to_string(a->local_endpoint().port)});
  if (!b) return Fail("cannot start node B");
  for (int i = 0; i < 100 && b->Snapshot().contacts.empty(); ++i) std::this_thread::sleep_for(20ms);
  if (b->Snapshot().contacts.empty()) return Fail("B did not join A");

  const std::string port_a = std::to_string(a->local_endpoint().port);
  const std::string port_b = std::to_string(b->local_endpoint().port);
  std::string python = "python3";
  char* argv[] = {python.data(), const_cast<char*>(script), const_cast<char*>(port_a.c_str()),
                  const_cast<char*>(port_b.c_str()), nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "python3", nullptr, nullptr, argv, environ);
  if (rc != 0) {
    return Fail("cannot run python3 (apt-get install python3)");
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Fail("python peer timed out");
    }
    std::this_thread::sleep_for(20ms);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return Fail("python3 not found (apt-get install python3)");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Fail("python peer failed");

  // The C++ side saw a 16-digit Python node and serves its unsigned record to a C++ lookup.
  const std::string python_id = "7f2d1ac9a4b5e6f0";  // python_peer.py's MY_ID
  bool routed = false;
  for (const auto& c : a->Snapshot().contacts) routed |= c.node_id == python_id;
  if (!routed) return Fail("A did not add the Python node to its routing table");
  auto got = b->Get("model:py-test").get();
  if (!got.ok() || got->size() != 1 || (*got)[0].node_id != python_id) return Fail("B cannot read the Python record");
  std::printf("python peer: OK\n");
  return 0;
}

}  // namespace
}  // namespace llamanet::dht

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s python_peer.py\n", argv[0]);
    return 2;
  }
  return llamanet::dht::Run(argv[1]);
}
