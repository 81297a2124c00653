// Client latency against real nodes on 127.0.0.1, next to plain HTTP to a known node in the
// same run:
//   cold:  a new Client (DHT socket, bootstrap, lookup of all_nodes, node choice, new HTTP
//          connection) until the first streamed token, against a new HTTP connection to a
//          known node until its first streamed token;
//   warm:  one Client's complete non-streamed request, against the same request over a kept
//          HTTP connection to a known node (interleaved, so both see the same machine).
// Not a test: run it by hand from a Release build, e.g.
//   build/bench/client/client_bench --nodes 3 --cold 30 --warm 300
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "llamanet/client.h"
#include "node_process.h"

namespace {

using Clock = std::chrono::steady_clock;
using llamanet::testing::NodeProcess;

struct Args {
  std::string node_bin = LLAMANET_DEFAULT_NODE_BIN;
  std::string model = LLAMANET_DEFAULT_MODEL;
  int nodes = 3;
  int cold = 30;
  int warm = 300;
  int max_tokens = 8;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Summary {
  double p50, p99, mean;
};

Summary Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) { return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))]; };
  double sum = 0;
  for (double x : v) sum += x;
  return {pct(0.50), pct(0.99), sum / v.size()};
}

void Print(const char* what, const std::vector<double>& samples) {
  Summary s = Summarize(samples);
  std::printf("  %-44s n=%-4zu p50 %8.2f ms   p99 %8.2f ms   mean %8.2f ms\n", what, samples.size(), s.p50, s.p99,
              s.mean);
}

std::string Body(int max_tokens, bool stream) {
  return std::string(R"({"prompt":"Once upon a time","temperature":0,"max_tokens":)") + std::to_string(max_tokens) +
         (stream ? R"(,"stream":true})" : "}");
}

// One plain cpp-httplib request: its complete time, or with `stream` the time to the first
// body bytes.
double PlainRequest(httplib::Client& http, int max_tokens, bool stream) {
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = Body(max_tokens, stream);
  req.set_header("Content-Type", "application/json");
  req.set_header("X-LlamaNet-Forwarded", "client");
  const auto start = Clock::now();
  double first = -1;
  req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) {
    if (first < 0) first = Ms(Clock::now() - start);
    return true;
  };
  httplib::Response res;
  httplib::Error err;
  if (!http.send(req, res, err) || res.status != 200) {
    std::fprintf(stderr, "plain request failed: %s %d\n", httplib::to_string(err).c_str(), res.status);
    std::exit(1);
  }
  return stream ? first : Ms(Clock::now() - start);
}

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--node-bin") a->node_bin = v;
    else if (k == "--model") a->model = v;
    else if (k == "--nodes") a->nodes = std::stoi(v);
    else if (k == "--cold") a->cold = std::stoi(v);
    else if (k == "--warm") a->warm = std::stoi(v);
    else if (k == "--max-tokens") a->max_tokens = std::stoi(v);
    else return false;
  }
  return argc % 2 == 1 && a->nodes >= 1 && a->cold >= 1 && a->warm >= 1 && !a->node_bin.empty() &&
         !a->model.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: client_bench [--node-bin PATH] [--model GGUF] [--nodes N] [--cold N] [--warm N] "
                 "[--max-tokens N]\n");
    return 2;
  }
  llamanet::testing::TempDir dir;
  std::vector<std::unique_ptr<NodeProcess>> nodes;
  for (int i = 0; i < args.nodes; ++i) {
    llamanet::testing::NodeSpec spec{args.node_bin, args.model, "bench-" + std::to_string(i + 1)};
    spec.dir = dir.path();
    spec.parallel = 4;
    if (!nodes.empty()) spec.bootstrap = {nodes[0]->dht_address()};
    auto n = NodeProcess::Start(spec);
    if (!n.ok()) {
      std::fprintf(stderr, "%s\n", n.status().ToString().c_str());
      return 1;
    }
    nodes.push_back(std::move(n).value());
  }
  llamanet::ClientOptions options;
  options.bootstrap_nodes = {nodes[0]->dht_address()};
  {  // every node must be listed before timing starts
    auto probe = llamanet::Client::Create(options);
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (true) {
      auto seen = (*probe)->Nodes(true).get();
      if (seen.ok() && static_cast<int>(seen->size()) == args.nodes) break;
      if (Clock::now() > deadline) {
        std::fprintf(stderr, "the swarm never listed all %d nodes\n", args.nodes);
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  const llamanet::GenerateRequest request{"Once upon a time", {.max_tokens = args.max_tokens, .temperature = 0}};

  std::vector<double> cold_client, cold_plain;
  for (int i = 0; i < args.cold; ++i) {
    const auto start = Clock::now();
    double first = -1;
    auto client = llamanet::Client::Create(options);
    auto done = (*client)->GenerateStream(request, [&](std::string_view) {
      if (first < 0) first = Ms(Clock::now() - start);
    }).get();
    if (!done.ok() || first < 0) {
      std::fprintf(stderr, "cold request failed: %s\n", done.status().ToString().c_str());
      return 1;
    }
    cold_client.push_back(first);
    (*client)->Close();
    httplib::Client http("127.0.0.1", nodes[0]->http_port());
    http.set_tcp_nodelay(true);
    cold_plain.push_back(PlainRequest(http, args.max_tokens, /*stream=*/true));
  }

  auto client = llamanet::Client::Create(options);
  httplib::Client http("127.0.0.1", nodes[0]->http_port());
  http.set_keep_alive(true);
  http.set_tcp_nodelay(true);
  for (int i = 0; i < 10; ++i) {  // warm both up: view, connections, node caches
    (*client)->Generate(request).get();
    PlainRequest(http, args.max_tokens, false);
  }
  std::vector<double> warm_client, warm_plain;
  for (int i = 0; i < args.warm; ++i) {
    const auto start = Clock::now();
    auto done = (*client)->Generate(request).get();
    if (!done.ok()) {
      std::fprintf(stderr, "warm request failed: %s\n", done.status().ToString().c_str());
      return 1;
    }
    warm_client.push_back(Ms(Clock::now() - start));
    warm_plain.push_back(PlainRequest(http, args.max_tokens, false));
  }

  std::printf("client_bench: %d node(s) on 127.0.0.1, %s, max_tokens %d, %u hardware threads\n", args.nodes,
              args.model.c_str(), args.max_tokens, std::thread::hardware_concurrency());
  std::printf("cold start, until the first streamed token:\n");
  Print("llamanet::Client (new, bootstrap, lookup, choose)", cold_client);
  Print("plain HTTP, new connection to a known node", cold_plain);
  std::printf("warm request, complete answer (not streamed):\n");
  Print("llamanet::Client", warm_client);
  Print("plain HTTP, kept connection to a known node", warm_plain);
  return 0;
}
