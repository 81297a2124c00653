#include "dht/dht_node.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "dht/node_core.h"
#include "dht/udp_transport.h"

namespace llamanet::dht {

namespace {
constexpr int kMaxDatagramsPerWake = 256;
constexpr int64_t kMaxPollMs = 1000;

Result<NodeId> ResolveId(const DhtOptions& options) {
  if (options.node_id.empty()) {
    std::mt19937_64 rng(options.rng_seed != 0 ? options.rng_seed : std::random_device()());
    return NodeId::Random(rng);
  }
  auto id = NodeId::FromHex(options.node_id);
  if (!id) return Status::InvalidArgument("node_id must be 16..64 hex digits: '" + options.node_id + "'");
  return *id;
}
// The numeric addresses of this host's interfaces: their subnets count as local for the
// routing table's per-address caps (a LAN swarm in this node's subnet keeps working).
std::vector<std::string> InterfaceAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, text, sizeof text);
    } else {
      continue;
    }
    out.emplace_back(text);
  }
  ::freeifaddrs(list);
  return out;
}
// The loop's eventfd. Shared with lookup handles, which wake the loop when they cancel, so it
// lives until the last of them is gone.
class WakeFd {
 public:
  WakeFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~WakeFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;
  int fd() const { return fd_; }
  void Wake() const {
    uint64_t one = 1;
    (void)!::write(fd_, &one, sizeof one);
  }
  void Drain() const {
    uint64_t count;
    (void)!::read(fd_, &count, sizeof count);
  }

 private:
  const int fd_;
};
}  // namespace

struct DhtNode::Impl {
  // Constant after construction.
  std::unique_ptr<UdpTransport> udp;  // UDP mode only
  std::unique_ptr<NodeCore> core;
  const Clock* clock = nullptr;
  std::shared_ptr<WakeFd> wake;  // UDP mode only

  // Loop-thread handoff (UDP mode).
  std::recursive_mutex state_mu;  // Start/Stop, and inline work while no loop runs
  std::atomic<bool> loop_running{false};
  std::atomic<bool> stop_requested{false};
  std::thread loop;
  std::thread::id loop_id;
  std::mutex tasks_mu;
  std::deque<std::function<void()>> tasks;  // guarded by tasks_mu
  bool started = false;                     // guarded by state_mu

  void Wake() const {
    if (wake) wake->Wake();
  }

  bool RunTasks() {
    std::deque<std::function<void()>> batch;
    {
      std::lock_guard<std::mutex> lock(tasks_mu);
      batch.swap(tasks);
    }
    for (auto& task : batch) task();
    return !batch.empty();
  }

  void Loop() {
    loop_id = std::this_thread::get_id();
    auto on_datagram = [this](const Endpoint& from, std::string_view bytes) { core->OnDatagram(from, bytes); };
    while (!stop_requested.load()) {
      RunTasks();
      udp->ReceiveReady(on_datagram, kMaxDatagramsPerWake);
      core->RunDueTimers();
      const int64_t wait = std::clamp<int64_t>(core->NextTimerMs() - clock->NowMs(), 0, kMaxPollMs);
      pollfd fds[2] = {{udp->fd(), POLLIN, 0}, {wake->fd(), POLLIN, 0}};
      if (::poll(fds, 2, static_cast<int>(wait)) > 0 && (fds[1].revents & POLLIN)) wake->Drain();
    }
    core->Stop();  // pending operations complete here, on the loop thread
    while (RunTasks()) {
    }
  }
};

DhtNode::DhtNode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DhtNode::~DhtNode() { Stop(); }

Result<std::unique_ptr<DhtNode>> DhtNode::Create(const DhtOptions& options) {
  auto id = ResolveId(options);
  if (!id.ok()) return id.status();
  auto udp = UdpTransport::Bind(options.bind_host, options.bind_port);
  if (!udp.ok()) return udp.status();
  auto impl = std::make_unique<Impl>();
  impl->udp = std::move(udp).value();
  impl->clock = &SystemClock::Instance();
  impl->wake = std::make_shared<WakeFd>();
  if (impl->wake->fd() < 0) return Status::IoError("eventfd failed");
  DhtOptions with_interfaces = options;
  for (std::string& ip : InterfaceAddresses()) with_interfaces.routing_limits.local_addresses.push_back(std::move(ip));
  impl->core = std::make_unique<NodeCore>(with_interfaces, *id, *impl->udp, *impl->clock);
  return std::unique_ptr<DhtNode>(new DhtNode(std::move(impl)));
}

Result<std::unique_ptr<DhtNode>> DhtNode::CreateDriven(const DhtOptions& options, Transport& transport,
                                                       const Clock& clock) {
  auto id = ResolveId(options);
  if (!id.ok()) return id.status();
  auto impl = std::make_unique<Impl>();
  impl->clock = &clock;
  impl->core = std::make_unique<NodeCore>(options, *id, transport, clock);
  return std::unique_ptr<DhtNode>(new DhtNode(std::move(impl)));
}

Status DhtNode::Start() {
  std::lock_guard<std::recursive_mutex> lock(impl_->state_mu);
  if (impl_->started) return Status::InvalidArgument("DHT node already started");
  impl_->started = true;
  impl_->core->Start();
  if (impl_->udp) {
    impl_->loop_running = true;
    impl_->loop = std::thread([impl = impl_.get()] { impl->Loop(); });
  }
  return Status::Ok();
}

void DhtNode::Stop() {
  std::lock_guard<std::recursive_mutex> lock(impl_->state_mu);
  if (impl_->loop.joinable()) {
    impl_->stop_requested = true;
    impl_->Wake();
    impl_->loop.join();
    impl_->loop_running = false;
  }
  impl_->core->Stop();
  impl_->RunTasks();  // tasks posted while the loop was exiting
}

void DhtNode::Post(std::function<void()> task) {
  if (impl_->loop_running.load() && std::this_thread::get_id() != impl_->loop_id) {
    {
      std::lock_guard<std::mutex> lock(impl_->tasks_mu);
      impl_->tasks.push_back(std::move(task));
    }
    impl_->Wake();
    // A task queued while the loop exits is run by the loop's final drain, by Stop, or here.
    if (impl_->loop_running.load()) return;
    std::lock_guard<std::recursive_mutex> lock(impl_->state_mu);
    impl_->RunTasks();
    return;
  }
  std::lock_guard<std::recursive_mutex> lock(impl_->state_mu);
  task();
}

const NodeId& DhtNode::id() const { return impl_->core->self_id(); }

Endpoint DhtNode::local_endpoint() const {
  return impl_->core->local_endpoint();  // constant after construction: no loop hop
}

std::shared_ptr<LookupHandle::State> DhtNode::NewLookupState() const {
  std::function<void()> wake;
  if (impl_->wake) wake = [weak = std::weak_ptr<WakeFd>(impl_->wake)] {
    if (auto fd = weak.lock()) fd->Wake();
  };
  return std::make_shared<LookupHandle::State>(std::move(wake));
}

LookupHandle DhtNode::PublishAsync(std::string key, Record record, std::function<void(Result<size_t>)> done,
                                   size_t replicas, std::optional<Spread> spread) {
  auto state = NewLookupState();
  NodeCore::CancelFlag cancel(state, &state->cancel_requested());
  Post([core = impl_->core.get(), key = std::move(key), record = std::move(record), done = std::move(done), state,
        cancel, replicas, spread]() mutable {
    core->Publish(
        std::move(key), std::move(record),
        [state, done = std::move(done)](Result<size_t> r) { state->Complete([&] { done(std::move(r)); }); }, cancel,
        replicas, spread);
  });
  return LookupHandle(std::move(state));
}

LookupHandle DhtNode::SampleAsync(std::string key, size_t count, std::function<void(Result<GetResult>)> done,
                                  std::optional<Spread> spread) {
  auto state = NewLookupState();
  NodeCore::CancelFlag cancel(state, &state->cancel_requested());
  Post([core = impl_->core.get(), key = std::move(key), done = std::move(done), state, cancel, count, spread]() mutable {
    core->Get(
        std::move(key),
        [state, done = std::move(done)](Result<GetResult> r) { state->Complete([&] { done(std::move(r)); }); }, cancel,
        std::max<size_t>(count, 1), spread);
  });
  return LookupHandle(std::move(state));
}

LookupHandle DhtNode::AskAsync(Endpoint at, std::string key, std::string known,
                               std::function<void(Result<GetResult>)> done) {
  auto state = NewLookupState();
  Post([core = impl_->core.get(), at = std::move(at), key = std::move(key), known = std::move(known),
        done = std::move(done), state]() mutable {
    if (state->cancel_requested().load()) return;
    core->Ask(at, std::move(key), std::move(known),
              [state, done = std::move(done)](Result<GetResult> r) { state->Complete([&] { done(std::move(r)); }); });
  });
  return LookupHandle(std::move(state));
}

std::future<Result<size_t>> DhtNode::Publish(std::string key, Record record) {
  auto promise = std::make_shared<std::promise<Result<size_t>>>();
  auto future = promise->get_future();
  PublishAsync(std::move(key), std::move(record), [promise](Result<size_t> r) { promise->set_value(std::move(r)); })
      .Detach();
  return future;
}

LookupHandle DhtNode::GetAsync(std::string key, std::function<void(Result<GetResult>)> done) {
  auto state = NewLookupState();
  NodeCore::CancelFlag cancel(state, &state->cancel_requested());
  Post([core = impl_->core.get(), key = std::move(key), done = std::move(done), state, cancel]() mutable {
    core->Get(
        std::move(key),
        [state, done = std::move(done)](Result<GetResult> r) { state->Complete([&] { done(std::move(r)); }); },
        cancel);
  });
  return LookupHandle(std::move(state));
}

std::future<Result<std::vector<Record>>> DhtNode::Get(std::string key) {
  auto promise = std::make_shared<std::promise<Result<std::vector<Record>>>>();
  auto future = promise->get_future();
  GetAsync(std::move(key), [promise](Result<GetResult> r) {
    if (r.ok()) {
      promise->set_value(std::move(r->records));
    } else {
      promise->set_value(r.status());
    }
  }).Detach();
  return future;
}

void DhtNode::Notify(std::string key, Record record) {
  Post([core = impl_->core.get(), key = std::move(key), record = std::move(record)]() mutable {
    core->Notify(std::move(key), std::move(record));
  });
}

void DhtNode::SetStoreObserver(std::function<void(const std::string& key, const Record& record)> observer) {
  impl_->core->SetStoreObserver(std::move(observer));
}

DhtSnapshot DhtNode::Snapshot() {
  auto promise = std::make_shared<std::promise<DhtSnapshot>>();
  auto future = promise->get_future();
  Post([core = impl_->core.get(), promise] { promise->set_value(core->Snapshot()); });
  return future.get();
}

void DhtNode::HandleDatagram(const Endpoint& from, std::string_view datagram) { impl_->core->OnDatagram(from, datagram); }

void DhtNode::RunDueTimers() { impl_->core->RunDueTimers(); }

int64_t DhtNode::NextTimerMs() const { return impl_->core->NextTimerMs(); }

}  // namespace llamanet::dht
