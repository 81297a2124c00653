// The request and result types of one text generation, shared by every Engine implementation
// and by the layers that call an Engine (HTTP routes, the router). Plain data, no llama.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace llamanet::engine {

struct SamplingParams {
  float temperature = 0.7f;      // <= 0 means greedy
  int32_t top_k = 40;            // <= 0 disables
  float top_p = 0.9f;            // 1 disables
  float min_p = 0.0f;            // 0 disables
  float repeat_penalty = 1.1f;   // 1 disables
  int32_t repeat_last_n = 64;    // tokens the penalties look back over
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::optional<uint32_t> seed;  // unset: a fresh random seed per request
  std::vector<std::pair<int32_t, float>> logit_bias;  // token id -> added logit
};

// A function call the assistant made (OpenAI's tool_calls[i]): `arguments` is JSON text.
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;
};

struct ChatMessage {
  std::string role;  // system, user, assistant or tool
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant: the calls it made
  std::string tool_call_id;          // tool: the call this message answers
};

// A function the model may call (OpenAI's tools[i].function).
struct ToolSpec {
  std::string name;
  std::string description;
  std::string parameters;  // a JSON schema, as JSON text; "" for none
};

enum class ToolChoice { kAuto, kNone, kRequired };

// What constrains a generation's output, beyond sampling. At most one of grammar and
// json_schema; tools only on chat requests.
struct OutputConstraints {
  std::string grammar;      // GBNF (llama.cpp's grammar format)
  std::string json_schema;  // JSON text: the output must be JSON matching it; "{}" for any object
  std::vector<ToolSpec> tools;
  ToolChoice tool_choice = ToolChoice::kAuto;  // kRequired with one tool: that function, forced
  bool parallel_tool_calls = true;
};

struct GenerationRequest {
  // Exactly one of prompt and messages is used: messages, when not empty, go through the
  // model's chat template; otherwise prompt is tokenized as it is.
  std::string prompt;
  std::vector<ChatMessage> messages;
  int32_t max_tokens = 100;  // new tokens at most; also cut by the context's end
  std::vector<std::string> stop;  // never emitted; text ends before the first match
  bool ignore_eos = false;        // keep generating past end-of-generation tokens
  SamplingParams sampling;
  OutputConstraints constraints;
  // Per generated token: its log probability and the `top_logprobs` most likely alternatives.
  bool logprobs = false;
  int32_t top_logprobs = 0;
  std::string request_id;  // for logs
  // The conversation this request continues (an affinity key, see protocol/affinity.h), so
  // that the engine can say which conversations it holds cached; 0: none.
  uint64_t conversation = 0;
};

enum class FinishReason { kStop, kLength, kCancelled, kError };
const char* FinishReasonName(FinishReason r);  // "stop", "length", "cancelled", "error"

struct GenerationResult {
  FinishReason finish_reason = FinishReason::kStop;
  Status error;  // set when finish_reason is kError or kCancelled
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t cached_tokens = 0;        // prompt tokens reused from a cache, not decoded again
  double queue_seconds = 0;         // waiting for a slot
  double first_token_seconds = 0;   // from submit to the first generated token
  double generation_seconds = 0;    // from submit to the end
};

// One token's log probability (natural log), as the model gave it before sampling.
struct TokenLogprob {
  std::string piece;  // the token's bytes (a piece of UTF-8, not always whole)
  float logprob = 0;
};

// A generated token with the most likely alternatives at its place, most likely first.
struct TokenLogprobs {
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;
};

// An assistant's answer read the model's own way (its chat template's tool-call syntax):
// the plain content and the calls. Only for chat requests that offer tools.
struct AssistantMessage {
  std::string content;
  std::string reasoning;
  std::vector<ToolCall> tool_calls;  // ids are given by the engine: "call_<24 chars>"
};

// One event of a generation as a consumer sees it: text (complete UTF-8, possibly empty)
// and, on the last event only, done = true with the result.
struct GenerationEvent {
  std::string text;
  int32_t tokens_generated = 0;  // completion tokens so far
  std::vector<TokenLogprobs> logprobs;  // the tokens since the last event, when asked for
  // The whole answer so far, read as a message, when the request offered tools; on the last
  // event, final (a call cut short is dropped, its text stays in `text`).
  std::optional<AssistantMessage> message;
  bool done = false;
  GenerationResult result;
};

}  // namespace llamanet::engine
