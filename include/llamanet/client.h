// llamanet::Client: finds a good node of a LlamaNet swarm by itself and survives a node going
// away.
//
//   auto client = llamanet::Client::Create(options);        // Result<std::unique_ptr<Client>>
//   std::future<llamanet::Result<llamanet::Completion>> f = (*client)->Generate({"Once upon"});
//   llamanet::Result<llamanet::Completion> r = f.get();      // r->text, r->node_id
//
// How it works. The client joins the swarm's DHT as a read-only member (its queries carry
// "ro": true, so no node ever puts it in a routing table), reads the node records under
// `all_nodes` (or `model:<name>`), and keeps that view for ClientOptions::cache_ttl. For each
// request it filters the view (model, min_tps, max_load; all the model's nodes when none
// passes), ranks it, and draws two of the best candidates, taking the less loaded one (load
// as the node reported it plus this client's own requests in flight there). It then talks to
// the node's OpenAI routes (/v1/completions, /v1/chat/completions; streams as Server-Sent
// Events) with the header `X-LlamaNet-Forwarded: client`, so that the node serves the request
// itself: the client already chose, one hop at most.
//
// Failover. A request that fails before anything reached the caller (no connection, a
// timeout, HTTP 5xx or 429, a connection lost before the answer was complete; for a stream:
// before its first piece) is sent to another node after a short backoff, up to
// ClientOptions::max_attempts nodes, never to the node that just failed; that node is passed
// over by every request for ClientOptions::avoid_after_failure. Errors that another node
// would repeat (HTTP 4xx) are not retried. A stream that fails after its first piece ends
// with the error: its text cannot be taken back.
//
// Asynchrony: futures. Every call returns at once with a std::future; the request runs on one
// of the client's own worker threads (ClientOptions::worker_threads). A streaming call takes a
// callback that gets each piece of text as it arrives, called on that worker thread, one
// piece after the other (never concurrently for one request; a LlamaNet node never splits a
// UTF-8 character between pieces). A null callback is allowed: the text is only collected. The callback must return quickly and must not call Close() or wait on this
// client's futures; it may start new requests. If it throws, the request fails with kInternal.
//
// Errors (Status codes in the results):
//   kNotFound          no node available: the swarm could not be reached, lists no node, or
//                      none serves the model (also a node's 404)
//   kInvalidArgument   the request was refused as invalid (HTTP 400/401/403/422); not retried
//   kTooLarge          the request or the answer is over a limit (HTTP 413, max_*_bytes)
//   kUnavailable, kDeadlineExceeded, kIoError
//                      the last node tried failed (5xx/429, timeout, connection) and no
//                      attempt was left; the message names every node tried
//   kCancelled         Close() was called first
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "llamanet/options.h"
#include "llamanet/status.h"
#include "llamanet/types.h"

namespace llamanet {

class Client {
 public:
  // Gets each piece of a streamed answer (see above for the thread it runs on).
  using TextCallback = std::function<void(std::string_view piece)>;

  // Binds the client's DHT socket and starts joining the swarm in the background; returns
  // without waiting for it. InvalidArgument for bad options (a bootstrap entry that is not
  // host:port, max_attempts < 1, worker_threads 0), IoError when the socket cannot be bound.
  static Result<std::unique_ptr<Client>> Create(ClientOptions options);

  // Close()s first.
  virtual ~Client() = default;

  // A text completion (POST /v1/completions).
  virtual std::future<Result<Completion>> Generate(GenerateRequest request) = 0;
  // A chat completion (POST /v1/chat/completions); the node applies the model's chat template.
  virtual std::future<Result<Completion>> Chat(ChatRequest request) = 0;
  // The same, streamed: `on_text` gets each piece; the future gets the whole Completion.
  virtual std::future<Result<Completion>> GenerateStream(GenerateRequest request, TextCallback on_text) = 0;
  virtual std::future<Result<Completion>> ChatStream(ChatRequest request, TextCallback on_text) = 0;

  // The live nodes the client sees (of ClientOptions::model when set), least loaded first.
  // `refresh`: read the DHT now instead of using a view younger than cache_ttl.
  virtual std::future<Result<std::vector<NodeInfo>>> Nodes(bool refresh = false) = 0;

  // GET /status and /health of one node. `node` is "host:port" (its HTTP address) or a node
  // id, looked up in the DHT (kNotFound when no live node has it). No failover. Nodes keep
  // both routes open; the API key goes with them as with any request (ClientOptions::api_key).
  virtual std::future<Result<NodeStatus>> GetNodeStatus(std::string node) = 0;

  // Stops the client: requests in flight and queued end with kCancelled (their connections
  // are closed), later calls fail at once with kCancelled, and the worker threads and the
  // DHT socket are released. Blocks until then. Idempotent. REQUIRES: not called from a
  // TextCallback.
  virtual void Close() = 0;
};

}  // namespace llamanet
