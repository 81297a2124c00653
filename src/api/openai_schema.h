// The request bodies of POST /v1/completions and /v1/chat/completions (PROTOCOL.md section 2),
// parsed once into typed requests with OpenAI's defaults and ranges. No HTTP here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/generation.h"

namespace llamanet::api {

// Choices per prompt (`n`) at most. Each choice is one generation in its own slot.
inline constexpr int32_t kMaxChoicesPerPrompt = 8;
// `stop` entries at most, and bytes per entry.
inline constexpr size_t kMaxOpenAiStops = 16;
inline constexpr size_t kMaxOpenAiStopBytes = 256;
// `logit_bias` entries at most (OpenAI states no limit; the body limit alone would allow ~300k).
inline constexpr size_t kMaxLogitBias = 1024;
// `messages` at most.
inline constexpr size_t kMaxMessages = 1024;
// `tools` at most (OpenAI's limit), and a tool call's or schema's limits.
inline constexpr size_t kMaxTools = 128;
inline constexpr size_t kMaxToolCalls = 128;
// `top_logprobs` at most (OpenAI's limit); completions' `logprobs` at most (OpenAI's).
inline constexpr int32_t kMaxTopLogprobs = 20;
inline constexpr int32_t kMaxCompletionLogprobs = 5;

enum class OpenAiEndpoint { kCompletions, kChatCompletions };

struct OpenAiRequest {
  OpenAiEndpoint endpoint = OpenAiEndpoint::kCompletions;
  std::string model;                 // as the client named it; "" when absent
  std::vector<std::string> prompts;  // completions: one entry per prompt; chat: empty
  // Everything a generation of this request shares: messages (chat), max_tokens, stop,
  // ignore_eos and sampling. Each choice copies it and sets its prompt.
  engine::GenerationRequest generation;
  int32_t n = 1;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool echo = false;           // completions: the prompt comes back before the text
};

// OpenAI's name for a field this node does not take: `Unrecognized request argument supplied`.
// Labels (`user`, `metadata`, `store`, `service_tier`) and the llama.cpp extensions the node
// implements are recognized.
std::string UnrecognizedArgument(const std::string& field);

// What the body may ask for, from the model the node serves.
struct OpenAiLimits {
  int32_t n_ctx = 0;    // max_tokens at most (prompt and completion share it)
  int32_t n_vocab = 0;  // logit_bias keys are token ids below this
};

// Parse a body. Errors: kMalformed (not JSON, a field of the wrong type or shape) or
// kInvalidArgument (a value out of range, a missing or empty required field); `param` then
// names the field at fault (OpenAI's `param`: "max_tokens", "messages.[2].role"), or is left
// empty when it is the body as a whole. Defaults are OpenAI's: temperature 1, top_p 1, no
// top_k, no repeat penalty, max_tokens 16 for completions and the context's end for chat.
// A field neither endpoint knows is kInvalidArgument naming it.
Result<OpenAiRequest> ParseCompletionRequest(const std::string& body, const OpenAiLimits& limits, std::string* param);
Result<OpenAiRequest> ParseChatRequest(const std::string& body, const OpenAiLimits& limits, std::string* param);

}  // namespace llamanet::api
