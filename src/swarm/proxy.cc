#include "swarm/proxy.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "core/log.h"

namespace llamanet::swarm {
namespace {

// One request to one peer, run on its own thread so that the handler can wait for the
// peer's status line before it commits to an answer, then relay the body as it comes.
struct Exchange {
  enum class State { kWaiting, kAnswered, kFailed };

  std::mutex mu;
  std::condition_variable cv;
  State state = State::kWaiting;  // all guarded by mu
  int status = 0;
  httplib::Headers headers;
  std::deque<std::string> chunks;
  size_t buffered = 0;
  bool finished = false;
  bool broken = false;  // the peer's answer ended early (it died mid-stream)
  bool cancelled = false;
  std::string error;

  std::unique_ptr<httplib::Client> client;
  std::thread thread;

  ~Exchange() {
    if (thread.joinable()) thread.join();
  }

  void Cancel() {
    {
      std::lock_guard<std::mutex> lock(mu);
      cancelled = true;
    }
    cv.notify_all();
    client->stop();  // interrupts a read that waits on the peer
  }
};

bool RetryableStatus(int status) { return status >= 500 || status == 429; }

std::shared_ptr<Exchange> Start(const httplib::Request& in, const PeerRecord& peer, const ProxyOptions& o) {
  auto ex = std::make_shared<Exchange>();
  ex->client = std::make_unique<httplib::Client>(peer.ip, peer.port);
  ex->client->set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(o.connect_timeout).count(),
                                     static_cast<time_t>((o.connect_timeout.count() % 1000) * 1000));
  ex->client->set_read_timeout(o.read_timeout.count(), 0);
  ex->client->set_tcp_nodelay(true);

  auto out = std::make_shared<httplib::Request>();
  out->method = in.method;
  out->path = in.path;
  out->body = in.body;
  for (const char* h : {"Content-Type", "Authorization", "Accept", "X-Request-Id"}) {
    if (in.has_header(h)) out->set_header(h, in.get_header_value(h));
  }
  out->set_header(kForwardedHeader, o.self_node_id);
  size_t max_buffered = o.max_buffered_bytes;
  Exchange* raw = ex.get();
  out->response_handler = [raw](const httplib::Response& r) {
    std::lock_guard<std::mutex> lock(raw->mu);
    raw->status = r.status;
    raw->headers = r.headers;
    if (RetryableStatus(r.status)) {
      raw->state = Exchange::State::kFailed;
      raw->error = "HTTP " + std::to_string(r.status);
    } else {
      raw->state = Exchange::State::kAnswered;
    }
    raw->cv.notify_all();
    return raw->state == Exchange::State::kAnswered;
  };
  out->content_receiver = [raw, max_buffered](const char* data, size_t n, uint64_t, uint64_t) {
    std::unique_lock<std::mutex> lock(raw->mu);
    raw->cv.wait(lock, [&] { return raw->cancelled || raw->buffered < max_buffered; });
    if (raw->cancelled) return false;
    raw->chunks.emplace_back(data, n);
    raw->buffered += n;
    raw->cv.notify_all();
    return true;
  };
  ex->thread = std::thread([raw, out] {
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    bool ok = raw->client->send(*out, res, err);
    std::lock_guard<std::mutex> lock(raw->mu);
    if (raw->state == Exchange::State::kWaiting) {
      raw->state = Exchange::State::kFailed;
      raw->error = ok ? "no answer" : httplib::to_string(err);
    }
    raw->broken = !ok;
    raw->finished = true;
    raw->cv.notify_all();
  });
  return ex;
}

}  // namespace

bool Proxy::Forward(const httplib::Request& req, httplib::Response& res, const std::vector<PeerRecord>& peers) {
  for (const PeerRecord& peer : peers) {
    std::shared_ptr<Exchange> ex = Start(req, peer, options_);
    std::unique_lock<std::mutex> lock(ex->mu);
    ex->cv.wait(lock, [&] { return ex->state != Exchange::State::kWaiting; });
    if (ex->state == Exchange::State::kFailed) {
      std::string why = ex->error;
      lock.unlock();
      ex->Cancel();
      router_.MarkFailed(peer.node_id);
      LN_WARN << "peer " << peer.node_id << " at " << peer.ip << ":" << peer.port << " failed (" << why
              << "); trying the next";
      continue;
    }
    res.status = ex->status;
    // The answer is the peer's: its X-LlamaNet-Node replaces this node's.
    res.headers.erase(kServedByHeader);
    std::string content_type = "application/json";
    for (const auto& [name, value] : ex->headers) {
      if (name == "Content-Type") content_type = value;
      if (name == kServedByHeader || name == "X-Request-Id" || name == "Retry-After" || name == "Cache-Control") {
        res.set_header(name, value);
      }
    }
    if (!res.has_header(kServedByHeader)) res.set_header(kServedByHeader, peer.node_id);
    lock.unlock();
    res.set_chunked_content_provider(
        content_type,
        [ex](size_t, httplib::DataSink& sink) {
          std::unique_lock<std::mutex> lock(ex->mu);
          while (true) {
            ex->cv.wait(lock, [&] { return !ex->chunks.empty() || ex->finished; });
            while (!ex->chunks.empty()) {
              std::string chunk = std::move(ex->chunks.front());
              ex->chunks.pop_front();
              ex->buffered -= chunk.size();
              ex->cv.notify_all();
              lock.unlock();
              bool written = sink.write(chunk.data(), chunk.size());
              lock.lock();
              if (!written) return false;
            }
            if (ex->finished) {
              // A peer that died mid-answer must not look like a complete answer: drop the
              // connection so that the client sees the failure.
              if (ex->broken) return false;
              sink.done();
              return true;
            }
          }
        },
        [ex](bool) { ex->Cancel(); });
    return true;
  }
  return false;
}

}  // namespace llamanet::swarm
