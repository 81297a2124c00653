// Client (include/llamanet/client.h): wires discovery, selection, transport and failover
// together, and runs every call on the client's worker threads.
#include "llamanet/client.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>

#include "client/connection_pool.h"
#include "client/discovery.h"
#include "client/failover.h"
#include "client/http_transport.h"
#include "client/node_health.h"
#include "client/openai_wire.h"
#include "client/status_util.h"
#include "client/worker_pool.h"
#include "dht/endpoint.h"

namespace llamanet {
namespace {

using client::Call;

Status CheckOptions(const ClientOptions& o) {
  if (o.max_attempts < 1) return Status::InvalidArgument("max_attempts must be at least 1");
  if (o.worker_threads < 1) return Status::InvalidArgument("worker_threads must be at least 1");
  if (o.max_queued_requests < 1) return Status::InvalidArgument("max_queued_requests must be at least 1");
  if (o.candidate_pool < 1) return Status::InvalidArgument("candidate_pool must be at least 1");
  if (o.min_tps < 0) return Status::InvalidArgument("min_tps must not be negative");
  if (o.max_load < 0) return Status::InvalidArgument("max_load must not be negative");
  if (o.connect_timeout.count() <= 0 || o.read_timeout.count() <= 0 || o.discovery_timeout.count() <= 0) {
    return Status::InvalidArgument("timeouts must be positive");
  }
  return Status::Ok();
}

template <typename T>
std::future<Result<T>> Ready(Result<T> value) {
  std::promise<Result<T>> p;
  p.set_value(std::move(value));
  return p.get_future();
}

class ClientImpl final : public Client {
 public:
  ClientImpl(ClientOptions options, client::KeyPolicy keys, std::unique_ptr<client::Discovery> discovery)
      : options_(std::move(options)),
        discovery_(std::move(discovery)),
        pool_(client::ConnectionSettings{options_.connect_timeout, options_.read_timeout, options_.worker_threads}),
        transport_(client::HttpTransportOptions{std::move(keys), options_.max_response_bytes, options_.max_event_bytes},
                   pool_),
        health_(options_.avoid_after_failure),
        failover_(client::FailoverOptions{{options_.model, options_.min_tps, options_.max_load},
                                          options_.candidate_pool,
                                          options_.max_attempts,
                                          options_.backoff_initial,
                                          options_.backoff_max},
                  *discovery_, transport_, health_, [this](std::chrono::milliseconds d) { return SleepUnlessClosed(d); },
                  std::random_device()()),
        workers_(options_.worker_threads, options_.max_queued_requests) {}

  ~ClientImpl() override { Close(); }

  std::future<Result<Completion>> Generate(GenerateRequest request) override {
    return Run(client::CheckRequest(request), client::MakeCall(request, options_.model, false), nullptr);
  }
  std::future<Result<Completion>> Chat(ChatRequest request) override {
    return Run(client::CheckRequest(request), client::MakeCall(request, options_.model, false), nullptr);
  }
  std::future<Result<Completion>> GenerateStream(GenerateRequest request, TextCallback on_text) override {
    return Run(client::CheckRequest(request), client::MakeCall(request, options_.model, true), std::move(on_text));
  }
  std::future<Result<Completion>> ChatStream(ChatRequest request, TextCallback on_text) override {
    return Run(client::CheckRequest(request), client::MakeCall(request, options_.model, true), std::move(on_text));
  }

  std::future<Result<std::vector<NodeInfo>>> Nodes(bool refresh) override {
    return Enqueue<std::vector<NodeInfo>>([this, refresh]() -> Result<std::vector<NodeInfo>> {
      auto nodes = discovery_->Nodes(refresh);
      if (nodes.ok() || nodes.status().code() == Status::Code::kCancelled) return nodes;
      return Status::NotFound("no node available: " + nodes.status().message());
    });
  }

  std::future<Result<NodeStatus>> GetNodeStatus(std::string node) override {
    return Enqueue<NodeStatus>([this, node = std::move(node)]() -> Result<NodeStatus> {
      if (auto hp = dht::SplitHostPort(node); hp.ok()) return transport_.GetStatus(hp->first, hp->second);
      Result<NodeInfo> found = discovery_->Find(node);
      if (!found.ok()) {
        if (found.status().code() == Status::Code::kCancelled) return found.status();
        return Status::NotFound("node '" + node + "': " + found.status().message());
      }
      return transport_.GetStatus(found->ip, found->port);
    });
  }

  void Close() override {
    std::lock_guard<std::mutex> serial(close_mu_);
    if (closed_.exchange(true)) return;
    { std::lock_guard<std::mutex> lock(sleep_mu_); }  // a sleeper now either sees closed_ or waits
    sleep_cv_.notify_all();  // failover backoffs end
    discovery_->Stop();      // requests waiting for a view end
    pool_.Close();           // requests in flight end
    workers_.Join();         // queued requests end, each with kCancelled
  }

 private:
  std::future<Result<Completion>> Run(Status valid, Call call, TextCallback on_text) {
    if (!valid.ok()) return Ready<Completion>(valid);
    return Enqueue<Completion>([this, call = std::move(call), on_text = std::move(on_text)] {
      return failover_.Run(call, on_text);
    });
  }

  // Runs `fn` on a worker; the future gets its result, or kCancelled once closed, or
  // kUnavailable when the queue is full.
  template <typename T>
  std::future<Result<T>> Enqueue(std::function<Result<T>()> fn) {
    if (closed_) return Ready<T>(Status::Cancelled("the client is closed"));
    auto promise = std::make_shared<std::promise<Result<T>>>();
    std::future<Result<T>> future = promise->get_future();
    const bool queued = workers_.Submit([this, promise, fn = std::move(fn)] {
      promise->set_value(closed_ ? Result<T>(Status::Cancelled("the client is closed")) : fn());
    });
    if (!queued) {
      promise->set_value(closed_ ? Status::Cancelled("the client is closed")
                                 : Status::Unavailable("too many requests queued (max_queued_requests)"));
    }
    return future;
  }

  bool SleepUnlessClosed(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(sleep_mu_);
    return !sleep_cv_.wait_for(lock, d, [this] { return closed_.load(); });
  }

  const ClientOptions options_;
  std::unique_ptr<client::Discovery> discovery_;
  client::ConnectionPool pool_;
  client::HttpTransport transport_;
  client::NodeHealth health_;
  client::Failover failover_;

  std::atomic<bool> closed_{false};
  std::mutex close_mu_;  // one Close() at a time
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
  client::WorkerPool workers_;  // last: its threads start once everything above exists
};

}  // namespace

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  if (Status s = CheckOptions(options); !s.ok()) return s;
  auto keys = client::KeyPolicy::Make(options.api_key, options.trusted_nodes, !options.swarm_secret.empty());
  if (!keys.ok()) return keys.status();
  client::DiscoveryOptions d;
  d.bootstrap = options.bootstrap_nodes;
  d.model = options.model;
  d.cache_ttl = options.cache_ttl;
  d.timeout = options.discovery_timeout;
  d.bind_host = options.dht_bind_host;
  d.bind_port = options.dht_port;
  d.swarm_secret = options.swarm_secret;
  d.identity.require_signed = options.require_signed;
  auto discovery = client::Discovery::Start(std::move(d));
  if (!discovery.ok()) return discovery.status();
  return std::unique_ptr<Client>(
      new ClientImpl(std::move(options), std::move(keys).value(), std::move(discovery).value()));
}

}  // namespace llamanet
