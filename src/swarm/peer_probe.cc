#include "swarm/peer_probe.h"

#include <httplib.h>

namespace llamanet::swarm {
namespace {

std::unique_ptr<httplib::Client> ProbeClient(const std::string& ip, int32_t port, std::chrono::milliseconds timeout) {
  auto client = std::make_unique<httplib::Client>(ip, port);
  client->set_connection_timeout(timeout);
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);
  client->set_max_timeout(timeout);
  client->set_keep_alive(false);
  return client;
}

}  // namespace

Result<ProbeAnswer> ProbeGet(const std::string& ip, int32_t port, const std::string& path,
                             std::chrono::milliseconds timeout, size_t max_body_bytes, const httplib::Headers& headers) {
  std::unique_ptr<httplib::Client> client = ProbeClient(ip, port, timeout);
  ProbeAnswer answer;
  bool too_large = false;
  httplib::Result r = client->Get(
      path, headers, [&](const httplib::Response& res) {
        answer.status = res.status;
        return true;
      },
      [&](const char* data, size_t n) {
        if (answer.body.size() + n > max_body_bytes) {
          too_large = true;
          return false;
        }
        answer.body.append(data, n);
        return true;
      });
  if (too_large) return Status::TooLarge("answer over " + std::to_string(max_body_bytes) + " bytes");
  if (!r) return Status::Unavailable("no answer from " + ip + ":" + std::to_string(port) + " (" + httplib::to_string(r.error()) + ")");
  return answer;
}

bool AnswersHttp(const std::string& ip, int32_t port, std::chrono::milliseconds timeout) {
  std::unique_ptr<httplib::Client> client = ProbeClient(ip, port, timeout);
  bool answered = false;
  // The status line is the sign of life; the body does not matter.
  httplib::Result r = client->Get(
      "/health",
      [&](const httplib::Response&) {
        answered = true;
        return false;
      },
      [](const char*, size_t) { return true; });
  return answered || r;
}

}  // namespace llamanet::swarm
