// Transport: one attempt of one request at one node. The failover loop (failover.h) sees only
// this interface, so that its tests run without sockets.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "client/openai_wire.h"
#include "llamanet/status.h"
#include "llamanet/types.h"
#include "protocol/affinity.h"

namespace llamanet::client {

using TextSink = std::function<void(std::string_view piece)>;

struct AttemptResult {
  Status status;
  // Some text of a stream reached the caller: the request can no longer move to another
  // node.
  bool delivered = false;
  Completion completion;  // status.ok(): the answer, node_id included
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends `call` to `node`; a stream's pieces go to `on_text` as they arrive. Errors: those
  // of StatusFromHttp for an HTTP answer other than 200; IoError, DeadlineExceeded for the
  // connection; Malformed for an answer that is not OpenAI's; Cancelled once closing.
  virtual AttemptResult Send(const NodeInfo& node, const Call& call, const TextSink& on_text) = 0;
  // What `node` holds of a conversation and how free it is (GET /cache); errors as for Send.
  virtual Result<protocol::CacheReport> AskCache(const NodeInfo& node, uint64_t conversation) = 0;
};

}  // namespace llamanet::client
