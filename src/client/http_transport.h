// The Transport over HTTP: the nodes' OpenAI routes through pooled keep-alive connections,
// each request marked `X-LlamaNet-Forwarded: client` (protocol::kForwardedHeader) so that the
// node serves it itself, with `Authorization: Bearer <key>` where the KeyPolicy allows.
// Thread-safe.
#pragma once

#include <string>

#include "client/connection_pool.h"
#include "client/key_policy.h"
#include "client/transport.h"
#include "protocol/rules.h"

namespace llamanet::client {

struct HttpTransportOptions {
  KeyPolicy keys;
  size_t max_response_bytes = 16 << 20;
  size_t max_event_bytes = 1 << 20;
};

class HttpTransport final : public Transport {
 public:
  // `pool` must outlive the transport.
  HttpTransport(HttpTransportOptions options, ConnectionPool& pool) : options_(std::move(options)), pool_(pool) {}

  // An HTTP 401 from a node the key was withheld from is kUnavailable, its message saying so
  // (KeyPolicy::ExplainRefusal).
  AttemptResult Send(const NodeInfo& node, const Call& call, const TextSink& on_text) override;

  Result<protocol::CacheReport> AskCache(const NodeInfo& node, uint64_t conversation) override;

  // GET /status and GET /health of the node at host:port; errors as for Send.
  Result<NodeStatus> GetStatus(const std::string& host, int port);

 private:
  // One GET whose JSON body must come back with 200.
  Result<std::string> GetJson(ConnectionPool::Lease& lease, const std::string& host, int port, const char* path,
                              std::string* served_by);

  const HttpTransportOptions options_;
  ConnectionPool& pool_;
};

}  // namespace llamanet::client
