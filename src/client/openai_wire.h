// The nodes' OpenAI routes as the client uses them (PROTOCOL.md section 2): request bodies,
// answers, stream chunks and errors. JSON stays in this file pair; the rest of the client
// sees typed values.
#pragma once

#include <string>
#include <string_view>

#include "llamanet/status.h"
#include "llamanet/types.h"

namespace llamanet::client {

enum class CallKind { kCompletion, kChat };

// One request, ready for any node.
struct Call {
  CallKind kind = CallKind::kCompletion;
  bool stream = false;
  std::string body;  // JSON
  uint64_t conversation = 0;  // protocol/affinity.h: its turns go where its prefix is cached

  const char* path() const { return kind == CallKind::kChat ? "/v1/chat/completions" : "/v1/completions"; }
};

// InvalidArgument names the bad field: max_tokens < 1, temperature outside 0..2, top_p outside
// (0, 1], more than 4 stop strings, an empty prompt or message list, an unknown role.
Status CheckRequest(const GenerateRequest& request);
Status CheckRequest(const ChatRequest& request);

// `model` empty or "llamanet": the body names no model and the node uses its own. Streams ask
// for usage in their last chunk (stream_options.include_usage).
Call MakeCall(const GenerateRequest& request, const std::string& model, bool stream);
Call MakeCall(const ChatRequest& request, const std::string& model, bool stream);

// A non-streamed answer (HTTP 200). Malformed when it is not the OpenAI shape.
Result<Completion> ParseAnswer(CallKind kind, std::string_view body);

// Folds the events of a streamed answer into a Completion.
class StreamAssembler {
 public:
  explicit StreamAssembler(CallKind kind) : kind_(kind) {}

  // One event's data. Returns the text it adds (often empty); Malformed for an event that is
  // not JSON or not a chunk, Unavailable for an error event (the node failed mid-way).
  Result<std::string> OnEvent(std::string_view data);
  // `data: [DONE]` was seen.
  bool done() const { return done_; }
  Completion& completion() { return completion_; }

 private:
  CallKind kind_;
  bool done_ = false;
  Completion completion_;
};

// A non-200 answer as a Status with the code protocol::CodeOfHttpStatus gives it (404
// NotFound, 413 TooLarge, 429 and 5xx Unavailable, other 4xx InvalidArgument), except that
// any other status is Malformed: a LlamaNet node answers 200. The message is the node's own
// (OpenAI `error.message` or native `detail`) after "HTTP <status>: ".
Status StatusFromHttp(int http_status, std::string_view body);

}  // namespace llamanet::client
