// A real llamanet-node on 127.0.0.1 for the client's swarm tests and benchmark: started with
// posix_spawn, its output in a log file, ready once it logs "listening on http://127.0.0.1:
// PORT". Only the process started here is ever signalled, by its PID.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "llamanet/status.h"

namespace llamanet::testing {

struct NodeSpec {
  std::string node_bin;
  std::string model_path;
  std::string node_id;
  std::vector<std::string> bootstrap;  // DHT "host:port"
  int heartbeat_s = 1;
  int parallel = 2;
  std::string dir;  // for the key file and the log
};

class NodeProcess {
 public:
  // Starts the node and waits (at most `ready_within`) for its HTTP port.
  static Result<std::unique_ptr<NodeProcess>> Start(const NodeSpec& spec,
                                                    std::chrono::seconds ready_within = std::chrono::seconds(30));
  ~NodeProcess();  // SIGKILL if still running, then reaped

  // kill -9, then reaped.
  void Kill9();
  int http_port() const { return http_port_; }
  int dht_port() const { return dht_port_; }
  std::string dht_address() const { return "127.0.0.1:" + std::to_string(dht_port_); }
  const std::string& node_id() const { return node_id_; }
  std::string LogTail() const;

 private:
  NodeProcess() = default;
  pid_t pid_ = -1;
  int http_port_ = 0;
  int dht_port_ = 0;
  std::string node_id_;
  std::string log_path_;
};

// A fresh folder under $TMPDIR (or /tmp); removed with its files when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace llamanet::testing
