#include "node/config.h"

#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>

namespace llamanet::node {
namespace {

constexpr const char* kVersion = "llamanet-node 0.1.0";

enum class Kind { kString, kInt, kBool, kList };

struct OptionSpec {
  const char* flag;
  const char* env;  // nullptr: no variable
  Kind kind;
  const char* help;
  int64_t min = 0, max = 0;  // kInt only
  std::function<void(NodeConfig&, const std::string&, int64_t)> set;
};

Result<int64_t> ParseInt(const std::string& text, const std::string& what, int64_t min, int64_t max) {
  if (text.empty()) return Status::InvalidArgument(what + " needs a number");
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return Status::InvalidArgument(what + ": '" + text + "' is not a whole number");
  if (v < min || v > max) {
    return Status::InvalidArgument(what + ": " + text + " is out of range (" + std::to_string(min) + ".." +
                                   std::to_string(max) + ")");
  }
  return static_cast<int64_t>(v);
}

Result<bool> ParseBool(const std::string& text, const std::string& what) {
  if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
  if (text == "0" || text == "false" || text == "no" || text == "off" || text.empty()) return false;
  return Status::InvalidArgument(what + ": '" + text + "' is not true or false");
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  // The Python README wrote BOOTSTRAP_NODES="" literally; treat that as empty.
  if (text == "\"\"" || text == "''") return out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" \t");
    size_t e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

Status CheckHostPort(const std::string& entry, const std::string& what) {
  size_t colon = entry.rfind(':');
  if (colon == std::string::npos || colon == 0) return Status::InvalidArgument(what + ": '" + entry + "' is not host:port");
  Result<int64_t> port = ParseInt(entry.substr(colon + 1), what + " port in '" + entry + "'", 1, 65535);
  return port.status();
}

const std::vector<OptionSpec>& Specs() {
  static const std::vector<OptionSpec> specs = {
      {"--model-path", "MODEL_PATH", Kind::kString, "GGUF model file to serve (required)", 0, 0,
       [](NodeConfig& c, const std::string& v, int64_t) { c.model_path = v; }},
      {"--host", "HOST", Kind::kString, "HTTP bind address (default 0.0.0.0)", 0, 0,
       [](NodeConfig& c, const std::string& v, int64_t) { c.host = v; }},
      {"--port", "PORT", Kind::kInt, "HTTP port (default 8000; 0 picks a free one)", 0, 65535,
       [](NodeConfig& c, const std::string&, int64_t n) { c.port = static_cast<int32_t>(n); }},
      {"--dht-port", "DHT_PORT", Kind::kInt, "UDP port of the DHT (default 8001)", 0, 65535,
       [](NodeConfig& c, const std::string&, int64_t n) { c.dht_port = static_cast<int32_t>(n); }},
      {"--node-id", "NODE_ID", Kind::kString, "printable name of this node, up to 64 characters (default: from its key)", 0, 0,
       [](NodeConfig& c, const std::string& v, int64_t) { c.node_id = v; }},
      {"--bootstrap-nodes", "BOOTSTRAP_NODES", Kind::kList, "DHT peers to join through: host:port,host:port", 0, 0,
       [](NodeConfig& c, const std::string& v, int64_t) { c.bootstrap_nodes = SplitList(v); }},
      {"--heartbeat-interval", "HEARTBEAT_INTERVAL", Kind::kInt, "seconds between DHT publishes (default 10)", 1, 3600,
       [](NodeConfig& c, const std::string&, int64_t n) { c.heartbeat_interval = static_cast<int32_t>(n); }},
      {"--n-ctx", "N_CTX", Kind::kInt, "context size per request, in tokens (default 2048)", 16, 1 << 20,
       [](NodeConfig& c, const std::string&, int64_t n) { c.n_ctx = static_cast<int32_t>(n); }},
      {"--n-batch", "N_BATCH", Kind::kInt, "tokens per decode step (default 512)", 1, 65536,
       [](NodeConfig& c, const std::string&, int64_t n) { c.n_batch = static_cast<int32_t>(n); }},
      {"--n-gpu-layers", "N_GPU_LAYERS", Kind::kInt, "layers to offload to a GPU (default 0; -1: all)", -1, 100000,
       [](NodeConfig& c, const std::string&, int64_t n) { c.n_gpu_layers = static_cast<int32_t>(n); }},
      {"--public-host", "PUBLIC_HOST", Kind::kString, "address peers reach this node at (default: --host, or 127.0.0.1)", 0, 0,
       [](NodeConfig& c, const std::string& v, int64_t) { c.public_host = v; }},
      {"--parallel", "PARALLEL", Kind::kInt, "requests decoded together (default 4)", 1, 256,
       [](NodeConfig& c, const std::string&, int64_t n) { c.parallel = static_cast<int32_t>(n); }},
      {"--threads", "THREADS", Kind::kInt, "CPU threads for inference (default 0: one per core)", 0, 1024,
       [](NodeConfig& c, const std::string&, int64_t n) { c.threads = static_cast<int32_t>(n); }},
      {"--max-queue", "MAX_QUEUE", Kind::kInt, "requests that may wait for a slot (default 16)", 0, 4096,
       [](NodeConfig& c, const std::string&, int64_t n) { c.max_queue = static_cast<int32_t>(n); }},
      {"--api-key", "LLAMANET_API_KEY", Kind::kString, "require 'Authorization: Bearer KEY' on API routes", 0, 0,
       [](NodeConfig& c, const std::string& v, int64_t) { c.api_key = v; }},
      {"--key-file", "LLAMANET_KEY_FILE", Kind::kString, "the node's Ed25519 key, made on first start (default ~/.local/state/llamanet/node-DHT_PORT.key)", 0, 0,
       [](NodeConfig& c, const std::string& v, int64_t) { c.key_file = v; }},
      {"--swarm-secret", "LLAMANET_SWARM_SECRET", Kind::kString, "a private swarm: only nodes with this secret can talk to it", 0, 0,
       [](NodeConfig& c, const std::string& v, int64_t) { c.swarm_secret = v; }},
      {"--require-signed", "LLAMANET_REQUIRE_SIGNED", Kind::kBool, "refuse unsigned node records (Python nodes sign none)", 0, 0,
       [](NodeConfig& c, const std::string&, int64_t n) { c.require_signed = n != 0; }},
      {"--allow-private-peers", "LLAMANET_ALLOW_PRIVATE_PEERS", Kind::kBool, "forward to peers at loopback, link-local, multicast or metadata addresses too", 0, 0,
       [](NodeConfig& c, const std::string&, int64_t n) { c.allow_private_peers = n != 0; }},
      {"--max-body-bytes", "LLAMANET_MAX_BODY_BYTES", Kind::kInt, "largest request body, chunked or not (default 4194304); 413 beyond", 1024, int64_t{1} << 30,
       [](NodeConfig& c, const std::string&, int64_t n) { c.http_limits.max_body_bytes = static_cast<size_t>(n); }},
      {"--max-header-bytes", "LLAMANET_MAX_HEADER_BYTES", Kind::kInt, "largest request line + headers (default 16384, at most 65536); 431 beyond", 256, 65536,
       [](NodeConfig& c, const std::string&, int64_t n) { c.http_limits.max_header_bytes = static_cast<size_t>(n); }},
      {"--max-headers", "LLAMANET_MAX_HEADERS", Kind::kInt, "most header lines in a request (default 64); 431 beyond", 1, 4096,
       [](NodeConfig& c, const std::string&, int64_t n) { c.http_limits.max_headers = static_cast<size_t>(n); }},
      {"--header-timeout", "LLAMANET_HEADER_TIMEOUT", Kind::kInt, "seconds to receive a request's line and headers (default 10); 408 after", 1, 3600,
       [](NodeConfig& c, const std::string&, int64_t n) { c.http_limits.header_timeout = std::chrono::seconds(n); }},
      {"--max-connections", "LLAMANET_MAX_CONNECTIONS", Kind::kInt, "HTTP connections open at once (default 1024); 503 beyond", 8, 65536,
       [](NodeConfig& c, const std::string&, int64_t n) { c.http_limits.max_connections = static_cast<size_t>(n); }},
      {"--max-connections-per-ip", "LLAMANET_MAX_CONNECTIONS_PER_IP", Kind::kInt, "HTTP connections open at once from one address (default 128, or 2 x (parallel + max-queue) when more); 429 beyond", 1, 65536,
       [](NodeConfig& c, const std::string&, int64_t n) { c.max_connections_per_ip = static_cast<int32_t>(n); }},
      {"--prefix-cache", "LLAMANET_PREFIX_CACHE", Kind::kBool, "reuse the longest cached prefix of each prompt (default on; --prefix-cache=off decodes every prompt whole)", 0, 0,
       [](NodeConfig& c, const std::string&, int64_t n) { c.prefix_cache = n != 0; }},
      {"--cache-ram", "LLAMANET_CACHE_RAM", Kind::kInt, "MiB of host memory for saved prompt prefixes, least recently used evicted (default 2048; 0: only what the slots hold)", 0, 1 << 20,
       [](NodeConfig& c, const std::string&, int64_t n) { c.cache_ram_mib = static_cast<int32_t>(n); }},
      {"--embeddings", "LLAMANET_EMBEDDINGS", Kind::kBool, "serve POST /v1/embeddings beside generation (default on; --embeddings=off saves its context's memory)", 0, 0,
       [](NodeConfig& c, const std::string&, int64_t n) { c.embeddings = n != 0; }},
      {"--embeddings-only", "LLAMANET_EMBEDDINGS_ONLY", Kind::kBool, "serve embeddings and no generation (no generation context; generation requests go to peers)", 0, 0,
       [](NodeConfig& c, const std::string&, int64_t n) { c.embeddings_only = n != 0; }},
      {"--embeddings-ctx", "LLAMANET_EMBEDDINGS_CTX", Kind::kInt, "tokens one embedding input may have (default 512, at most the model's trained context)", 8, 1 << 20,
       [](NodeConfig& c, const std::string&, int64_t n) { c.embeddings_ctx = static_cast<int32_t>(n); }},
      {"--metrics-open", "LLAMANET_METRICS_OPEN", Kind::kBool, "serve /metrics without the API key", 0, 0,
       [](NodeConfig& c, const std::string&, int64_t n) { c.metrics_open = n != 0; }},
      {"--verbose", "LLAMANET_VERBOSE", Kind::kBool, "log more (debug lines, llama.cpp's own log)", 0, 0,
       [](NodeConfig& c, const std::string&, int64_t n) { c.verbose = n != 0; }},
  };
  return specs;
}

// Applies one value from a flag or a variable; `what` names its source in errors.
Status Apply(const OptionSpec& spec, const std::string& value, const std::string& what, NodeConfig& config) {
  switch (spec.kind) {
    case Kind::kInt: {
      Result<int64_t> n = ParseInt(value, what, spec.min, spec.max);
      if (!n.ok()) return n.status();
      spec.set(config, value, *n);
      return Status::Ok();
    }
    case Kind::kBool: {
      Result<bool> b = ParseBool(value, what);
      if (!b.ok()) return b.status();
      spec.set(config, value, *b ? 1 : 0);
      return Status::Ok();
    }
    case Kind::kList:
      for (const std::string& entry : SplitList(value)) {
        if (Status s = CheckHostPort(entry, what); !s.ok()) return s;
      }
      spec.set(config, value, 0);
      return Status::Ok();
    case Kind::kString:
      spec.set(config, value, 0);
      return Status::Ok();
  }
  return Status::Internal("unknown option kind");
}

Status Validate(const NodeConfig& c) {
  if (c.model_path.empty()) return Status::InvalidArgument("--model-path (or MODEL_PATH) is required");
  if (c.host.empty()) return Status::InvalidArgument("--host must not be empty");
  if (c.node_id.size() > 64) return Status::InvalidArgument("--node-id is longer than 64 characters");
  for (unsigned char ch : c.node_id) {
    if (ch < 0x21 || ch > 0x7e) return Status::InvalidArgument("--node-id must be printable ASCII without spaces");
  }
  if (c.n_batch < c.parallel) return Status::InvalidArgument("--n-batch must be at least --parallel");
  if (c.embeddings_only && !c.embeddings) {
    return Status::InvalidArgument("--embeddings-only needs embeddings on (drop --embeddings=off)");
  }
  if (c.port != 0 && c.port == c.dht_port) return Status::InvalidArgument("--port and --dht-port must differ");
  return Status::Ok();
}

}  // namespace

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string HelpText() {
  std::ostringstream out;
  out << "usage: llamanet-node --model-path FILE [options]\n\n"
      << "Serves a GGUF model to a LlamaNet swarm: its own HTTP API and OpenAI's.\n"
      << "Each option may also come from the environment variable in brackets; a flag wins.\n\n";
  for (const OptionSpec& s : Specs()) {
    std::string flag = s.flag;
    if (s.kind != Kind::kBool) flag += " VALUE";
    out << "  " << flag;
    out << std::string(flag.size() < 30 ? 30 - flag.size() : 2, ' ');
    out << s.help;
    if (s.env) out << " [" << s.env << "]";
    out << "\n";
  }
  out << "  --help                        this text\n  --version                     the version\n";
  return out.str();
}

Result<ParsedCommandLine> ParseConfig(const std::vector<std::string>& args, const EnvLookup& env) {
  ParsedCommandLine parsed;
  NodeConfig& config = parsed.config;
  for (const OptionSpec& spec : Specs()) {
    if (!spec.env) continue;
    std::optional<std::string> value = env(spec.env);
    if (!value) continue;
    if (Status s = Apply(spec, *value, std::string("environment variable ") + spec.env, config); !s.ok()) return s;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      parsed.print_and_exit = HelpText();
      return parsed;
    }
    if (arg == "--version") {
      parsed.print_and_exit = std::string(kVersion) + "\n";
      return parsed;
    }
    std::string name = arg, value;
    bool inline_value = false;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& s : Specs()) {
      if (name == s.flag) spec = &s;
    }
    if (!spec) return Status::InvalidArgument("unknown option '" + arg + "' (see --help)");
    if (spec->kind == Kind::kBool && !inline_value) {
      value = "true";
    } else if (!inline_value) {
      if (i + 1 >= args.size()) return Status::InvalidArgument(name + " needs a value");
      value = args[++i];
    }
    if (Status s = Apply(*spec, value, name, config); !s.ok()) return s;
  }
  if (Status s = Validate(config); !s.ok()) return s;
  return parsed;
}

}  // namespace llamanet::node
