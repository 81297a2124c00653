// The node's configuration: command-line flags over environment variables over defaults
// (PROTOCOL.md section 1), every value checked before anything starts.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/connection_gate.h"

namespace llamanet::node {

struct NodeConfig {
  std::string model_path;
  std::string host = "0.0.0.0";
  int32_t port = 8000;          // 0: any free port (tests)
  int32_t dht_port = 8001;
  std::string node_id;          // empty: derived from the node's key
  std::vector<std::string> bootstrap_nodes;  // "host:port" of DHT peers
  int32_t heartbeat_interval = 10;  // seconds
  int32_t n_ctx = 2048;         // context per request
  int32_t n_batch = 512;        // tokens per decode step (Python's default was 8: far too slow)
  int32_t n_gpu_layers = 0;
  std::string public_host;      // address advertised to peers; empty: the bind host, or 127.0.0.1
  int32_t parallel = 4;         // requests decoded together
  int32_t threads = 0;          // 0: one per core
  int32_t max_queue = 16;       // requests waiting for a slot before 503/429
  bool prefix_cache = true;     // reuse cached prompt prefixes (engine/scheduler.h)
  int32_t cache_ram_mib = 2048; // host memory for saved prefixes beyond the slots'; 0: none
  bool embeddings = true;       // serve POST /v1/embeddings (its own small context)
  bool embeddings_only = false; // embeddings and no generation: no generation context at all
  int32_t embeddings_ctx = 512; // tokens per embedding input, and per embedding decode
  std::string api_key;          // when set, /v1 and native generation routes require it
  std::string key_file;         // Ed25519 identity; empty: a per-DHT-port file under the state dir
  std::string swarm_secret;     // non-empty: a private swarm (every datagram carries a MAC)
  bool require_signed = false;  // refuse unsigned (Python) node records
  bool allow_private_peers = false;  // forward to loopback, link-local... peers (address_policy.h)
  http::HttpLimits http_limits;  // what one client may send and hold
  // 0: 128, or 2 x (parallel + max_queue) when that is more, so that one client (or one NAT
  // gateway) can fill every slot and the queue with streams.
  int32_t max_connections_per_ip = 0;
  bool metrics_open = false;     // /metrics without the API key
  bool verbose = false;
};

// What ParseConfig found: a config to run, or a request for help/version text.
struct ParsedCommandLine {
  NodeConfig config;
  std::optional<std::string> print_and_exit;  // --help or --version text
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// args excludes the program name. Errors are kInvalidArgument with a one-line message
// naming the flag or variable.
Result<ParsedCommandLine> ParseConfig(const std::vector<std::string>& args, const EnvLookup& env);

// The process environment, for ParseConfig.
std::optional<std::string> ProcessEnv(const std::string& name);

std::string HelpText();

}  // namespace llamanet::node
