#include "cli_options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace llamanet::cli {
namespace {

struct Flag {
  const char* name;
  const char* value;     // nullptr: a switch
  const char* commands;  // the commands that take it, space-separated; "" = every command
  const char* help;
  std::function<Status(CliOptions&, const std::string&)> set;
};

Result<double> ParseNumber(const std::string& flag, const std::string& text, double lo, double hi) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || v < lo || v > hi) {
    std::ostringstream m;
    m << flag << ": '" << text << "' is not a number in " << lo << ".." << hi;
    return Status::InvalidArgument(m.str());
  }
  return v;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

template <typename T>
std::function<Status(CliOptions&, const std::string&)> NumberInto(T CliOptions::*field, const char* flag, double lo,
                                                                 double hi) {
  return [=](CliOptions& o, const std::string& v) -> Status {
    Result<double> n = ParseNumber(flag, v, lo, hi);
    if (!n.ok()) return n.status();
    if (std::is_integral_v<T> && *n != std::floor(*n)) return Status::InvalidArgument(std::string(flag) + ": '" + v + "' is not a whole number");
    o.*field = static_cast<T>(*n);
    return Status::Ok();
  };
}

const std::vector<Flag>& Flags() {
  static const std::vector<Flag> flags = {
      {"--bootstrap-nodes", "HOST:PORT,...", "generate chat nodes status",
       "DHT addresses of nodes to join through (env BOOTSTRAP_NODES)",
       [](CliOptions& o, const std::string& v) {
         o.bootstrap_nodes = SplitList(v == "\"\"" ? "" : v);
         return Status::Ok();
       }},
      {"--model", "NAME", "generate chat nodes", "only nodes serving this model (default: any)",
       [](CliOptions& o, const std::string& v) {
         o.model = v;
         return Status::Ok();
       }},
      {"--max-tokens", "N", "generate chat", "tokens to generate at most (default 100)",
       NumberInto(&CliOptions::max_tokens, "--max-tokens", 1, 1 << 20)},
      {"--temperature", "T", "generate chat", "sampling temperature, 0..2 (default 0.7)",
       NumberInto(&CliOptions::temperature, "--temperature", 0, 2)},
      {"--min-tps", "TPS", "generate chat", "pass over nodes slower than this (default 0)",
       NumberInto(&CliOptions::min_tps, "--min-tps", 0, 1e9)},
      {"--max-load", "LOAD", "generate chat", "pass over nodes busier than this, 0..1 (default 1)",
       NumberInto(&CliOptions::max_load, "--max-load", 0, 1)},
      {"--timeout", "SECONDS", "", "longest wait for a node's next byte (default 30)",
       NumberInto(&CliOptions::timeout_s, "--timeout", 0.001, 86400)},
      {"--api-key", "KEY", "", "the nodes' API key; sent only to --trusted-nodes, or to every\n"
       "node of a private swarm (env LLAMANET_API_KEY)",
       [](CliOptions& o, const std::string& v) {
         o.api_key = v;
         return Status::Ok();
       }},
      {"--trusted-nodes", "HOST:PORT,...", "", "HTTP addresses of the nodes that get the API key\n"
       "(env LLAMANET_TRUSTED_NODES)",
       [](CliOptions& o, const std::string& v) {
         o.trusted_nodes = SplitList(v);
         return Status::Ok();
       }},
      {"--swarm-secret", "SECRET", "", "a private swarm's secret: DHT datagrams are authenticated\n"
       "and every node found gets the API key (env LLAMANET_SWARM_SECRET)",
       [](CliOptions& o, const std::string& v) {
         o.swarm_secret = v;
         return Status::Ok();
       }},
      {"--system", "TEXT", "chat", "a system message that starts the conversation",
       [](CliOptions& o, const std::string& v) {
         o.system_prompt = v;
         return Status::Ok();
       }},
      {"--watch", nullptr, "nodes", "redraw the table every --interval seconds until interrupted",
       [](CliOptions& o, const std::string&) {
         o.watch = true;
         return Status::Ok();
       }},
      {"--interval", "SECONDS", "nodes", "seconds between redraws with --watch (default 2)",
       NumberInto(&CliOptions::interval_s, "--interval", 0.1, 3600)},
      {"--json", nullptr, "", "machine-readable JSON on stdout",
       [](CliOptions& o, const std::string&) {
         o.json = true;
         return Status::Ok();
       }},
      {"--verbose", nullptr, "", "say which node served, and log the client's steps",
       [](CliOptions& o, const std::string&) {
         o.verbose = true;
         return Status::Ok();
       }},
      {"--help", nullptr, "", "this help",
       [](CliOptions& o, const std::string&) {
         o.help = true;
         return Status::Ok();
       }},
  };
  return flags;
}

struct Command {
  const char* name;
  const char* synopsis;
  const char* description;
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"generate", "generate [PROMPT]", "complete PROMPT (stdin when absent or '-'), streamed to stdout"},
      {"chat", "chat", "an interactive chat: one message per line; /reset forgets, /exit ends"},
      {"nodes", "nodes", "the live nodes of the swarm"},
      {"status", "status NODE", "one node's status; NODE is host:port (its HTTP address) or a node id"},
  };
  return commands;
}

bool Takes(const Flag& f, const std::string& command) {
  if (*f.commands == '\0' || command.empty()) return true;
  std::istringstream in(f.commands);
  std::string c;
  while (in >> c) {
    if (c == command) return true;
  }
  return false;
}

}  // namespace

Result<CliOptions> ParseCommandLine(int argc, char** argv) {
  CliOptions o;
  if (const char* env = std::getenv("BOOTSTRAP_NODES")) o.bootstrap_nodes = SplitList(env);
  if (const char* env = std::getenv("LLAMANET_API_KEY")) o.api_key = env;
  if (const char* env = std::getenv("LLAMANET_TRUSTED_NODES")) o.trusted_nodes = SplitList(env);
  if (const char* env = std::getenv("LLAMANET_SWARM_SECRET")) o.swarm_secret = env;
  std::vector<std::pair<const Flag*, std::string>> given;  // applied once the command is known
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() > 2 && arg.rfind("--", 0) == 0) {
      std::string value;
      const size_t eq = arg.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = arg.substr(eq + 1);
        arg.resize(eq);
      }
      const Flag* flag = nullptr;
      for (const Flag& f : Flags()) {
        if (arg == f.name) flag = &f;
      }
      if (!flag) return Status::InvalidArgument("unknown flag " + arg);
      if (flag->value && !inline_value) {
        if (i + 1 >= argc) return Status::InvalidArgument(arg + " needs a value (" + flag->value + ")");
        value = argv[++i];
      } else if (!flag->value && inline_value) {
        return Status::InvalidArgument(arg + " takes no value");
      }
      given.emplace_back(flag, value);
    } else if (o.command.empty()) {
      o.command = arg;
    } else {
      o.args.push_back(arg);
    }
  }
  if (!o.command.empty()) {
    bool known = false;
    for (const Command& c : Commands()) known |= o.command == c.name;
    if (!known) return Status::InvalidArgument("unknown command '" + o.command + "'");
  }
  for (const auto& [flag, value] : given) {
    if (!Takes(*flag, o.command)) {
      return Status::InvalidArgument(std::string(flag->name) + " does not apply to '" + o.command + "'");
    }
    if (Status s = flag->set(o, value); !s.ok()) return s;
  }
  if (o.help) return o;
  if (o.command.empty()) return Status::InvalidArgument("no command given");
  const size_t max_args = o.command == "generate" || o.command == "status" ? 1 : 0;
  if (o.args.size() > max_args) return Status::InvalidArgument("too many arguments for '" + o.command + "'");
  if (o.command == "status" && o.args.empty()) return Status::InvalidArgument("status needs a NODE (host:port or node id)");
  return o;
}

std::string HelpText(const std::string& command) {
  std::ostringstream out;
  if (command.empty()) {
    out << "Usage: llamanet COMMAND [OPTIONS]\n\nUse a LlamaNet swarm: nodes are found through its DHT.\n\nCommands:\n";
    for (const Command& c : Commands()) out << "  " << std::left << std::setw(20) << c.synopsis << c.description << "\n";
    out << "\nRun 'llamanet COMMAND --help' for a command's options.\n";
  } else {
    for (const Command& c : Commands()) {
      if (command == c.name) out << "Usage: llamanet " << c.synopsis << " [OPTIONS]\n\n" << c.description << "\n\nOptions:\n";
    }
    for (const Flag& f : Flags()) {
      if (!Takes(f, command)) continue;
      std::string left = std::string(f.name) + (f.value ? std::string(" ") + f.value : "");
      std::string help = f.help;  // a help of several lines continues under its first
      for (size_t at = help.find('\n'); at != std::string::npos; at = help.find('\n', at + 1)) {
        help.insert(at + 1, 36, ' ');
      }
      out << "  " << std::left << std::setw(34) << left << help << "\n";
    }
  }
  out << "\nExit codes: 0 ok, 2 bad usage, 3 no node available, 4 request failed.\n";
  return out.str();
}

ClientOptions ToClientOptions(const CliOptions& o) {
  ClientOptions c;
  c.bootstrap_nodes = o.bootstrap_nodes;
  c.model = o.model;
  c.min_tps = o.min_tps;
  c.max_load = o.max_load;
  c.read_timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(o.timeout_s * 1000)));
  c.api_key = o.api_key;
  c.trusted_nodes = o.trusted_nodes;
  c.swarm_secret = o.swarm_secret;
  c.worker_threads = 2;  // one request at a time, and `status` alongside
  return c;
}

SamplingParams ToSampling(const CliOptions& o) {
  SamplingParams p;
  p.max_tokens = o.max_tokens;
  p.temperature = o.temperature;
  return p;
}

int Fail(const Status& s) {
  std::cerr << "llamanet: error: " << s.message() << "\n";
  return s.code() == Status::Code::kNotFound ? kExitNoNode : kExitFailed;
}

std::unique_ptr<Client> MakeClient(const CliOptions& o, bool requires_bootstrap, int* exit_code) {
  if (requires_bootstrap && o.bootstrap_nodes.empty()) {
    std::cerr << "llamanet: error: no bootstrap nodes: give --bootstrap-nodes HOST:PORT or set BOOTSTRAP_NODES\n";
    *exit_code = kExitUsage;
    return nullptr;
  }
  Result<std::unique_ptr<Client>> client = Client::Create(ToClientOptions(o));
  if (!client.ok()) {
    std::cerr << "llamanet: error: " << client.status().message() << "\n";
    *exit_code = client.status().code() == Status::Code::kInvalidArgument ? kExitUsage : kExitFailed;
    return nullptr;
  }
  return std::move(client).value();
}

}  // namespace llamanet::cli
