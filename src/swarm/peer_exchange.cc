#include "swarm/peer_exchange.h"

namespace llamanet::swarm {
namespace {
// How often the destructor repeats its stop while the thread may still be connecting.
constexpr auto kStopRetry = std::chrono::milliseconds(20);
}  // namespace

PeerExchange::PeerExchange(const PeerTarget& target, httplib::Request request, std::chrono::milliseconds connect_timeout,
                           std::chrono::seconds read_timeout, size_t max_buffered)
    : client_(std::make_unique<httplib::Client>(target.ip, target.port)), max_buffered_(max_buffered) {
  client_->set_connection_timeout(connect_timeout);
  client_->set_read_timeout(read_timeout);
  client_->set_write_timeout(read_timeout);
  client_->set_tcp_nodelay(true);
  client_->set_keep_alive(false);
  thread_ = std::thread([this, request = std::move(request)]() mutable { Run(std::move(request)); });
}

PeerExchange::~PeerExchange() {
  Cancel();
  // httplib's stop() only reaches a request already on its socket; one still connecting is
  // stopped by the next try, once its connect (bounded by the connect timeout) is over.
  std::unique_lock<std::mutex> lock(mu_);
  while (!finished_) {
    lock.unlock();
    client_->stop();
    lock.lock();
    cv_.wait_for(lock, kStopRetry, [&] { return finished_; });
  }
  lock.unlock();
  thread_.join();
}

void PeerExchange::ChangedLocked() {
  ++version_;
  cv_.notify_all();
}

void PeerExchange::Run(httplib::Request request) {
  request.response_handler = [this](const httplib::Response& r) {
    std::lock_guard<std::mutex> lock(mu_);
    answered_ = true;
    status_ = r.status;
    headers_ = r.headers;
    last_heard_ = Clock::now();
    ChangedLocked();
    return !cancelled_;
  };
  request.content_receiver = [this](const char* data, size_t n, uint64_t, uint64_t) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return cancelled_ || data_.size() < max_buffered_; });
    if (cancelled_) return false;
    data_.append(data, n);
    last_heard_ = Clock::now();
    ChangedLocked();
    return true;
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) {
      finished_ = broken_ = true;
      error_ = "cancelled";
      ChangedLocked();
      return;
    }
  }
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool ok = client_->send(request, res, err);
  std::lock_guard<std::mutex> lock(mu_);
  if (ok && !answered_) {  // no body to read (204): httplib skips the response handler
    answered_ = true;
    status_ = res.status;
    headers_ = res.headers;
  }
  finished_ = true;
  broken_ = !ok;
  if (!ok) error_ = cancelled_ ? "cancelled" : httplib::to_string(err);
  ChangedLocked();
}

PeerExchange::Snapshot PeerExchange::SnapshotLocked() const {
  Snapshot s;
  s.answered = answered_;
  s.status = status_;
  s.has_data = !data_.empty();
  s.finished = finished_;
  s.broken = broken_;
  s.error = error_;
  s.last_heard = last_heard_;
  return s;
}

PeerExchange::Snapshot PeerExchange::WaitForChange(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return version_ != seen_; });
  seen_ = version_;
  return SnapshotLocked();
}

httplib::Headers PeerExchange::headers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return headers_;
}

PeerExchange::Clock::time_point PeerExchange::last_heard() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_heard_;
}

std::string PeerExchange::TakeData() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out.swap(data_);
  cv_.notify_all();  // the receiver may wait for room
  return out;
}

void PeerExchange::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return;
    cancelled_ = true;
    cv_.notify_all();
  }
  client_->stop();
}

}  // namespace llamanet::swarm
