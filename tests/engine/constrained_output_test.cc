// Output the client constrains, on the random-weights tiny model: whatever the weights say,
// the grammar decides what may be written. A JSON schema's answers parse and validate, forced
// tool calls parse into calls, a GBNF grammar is followed; logprobs and seeds behave.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "engine/llama_engine.h"
#include "json.h"

namespace llamanet::engine {
namespace {

// Objects, arrays, enums, required fields, nesting; strings and arrays bounded, so that a
// random model (which rarely closes a string of its own accord) finishes within max_tokens.
const char kSchema[] = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 8},
    "mood": {"type": "string", "enum": ["happy", "sad", "calm"]},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 3},
    "home": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 8},
                                              "floor": {"type": "integer", "minimum": 0, "maximum": 99}},
             "required": ["city", "floor"], "additionalProperties": false}
  },
  "required": ["name", "mood", "age", "tags", "home"],
  "additionalProperties": false
})";

std::unique_ptr<Engine> Open(std::chrono::milliseconds max_grammar_step = std::chrono::milliseconds(250)) {
  LlamaEngineOptions o;
  o.max_grammar_step = max_grammar_step;
  o.model_path = LLAMANET_TINY_MODEL;
  o.n_slots = 4;
  o.n_ctx = 1024;
  o.n_threads = 1;
  o.show_progress = false;
  Result<std::unique_ptr<Engine>> e = OpenLlamaEngine(o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

GenerationEvent Generate(Engine& engine, GenerationRequest r) {
  Result<std::shared_ptr<GenerationStream>> s = engine.Submit(std::move(r));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return {};
  return (*s)->Collect();
}

GenerationRequest Chat(const std::string& user, uint32_t seed) {
  GenerationRequest r;
  r.messages = {{"user", user}};
  r.max_tokens = 900;  // the worst case: the grammar allows 23 whitespace characters between JSON tokens
  r.sampling.temperature = 1.0f;
  r.sampling.top_k = 0;
  r.sampling.top_p = 1.0f;
  r.sampling.repeat_penalty = 1.0f;
  r.sampling.seed = seed;
  return r;
}

void ExpectMatchesSchema(const common_json& v) {
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.size(), 5u);
  EXPECT_TRUE(v["name"].is_string());
  std::string mood = v["mood"].get<std::string>();
  EXPECT_TRUE(mood == "happy" || mood == "sad" || mood == "calm") << mood;
  int64_t age = v["age"].get<int64_t>();
  EXPECT_GE(age, 0);
  EXPECT_LE(age, 150);
  ASSERT_TRUE(v["tags"].is_array());
  EXPECT_LE(v["tags"].size(), 3u);
  for (size_t i = 0; i < v["tags"].size(); ++i) EXPECT_TRUE(v["tags"][i].is_string());
  ASSERT_TRUE(v["home"].is_object());
  EXPECT_EQ(v["home"].size(), 2u);
  EXPECT_TRUE(v["home"]["city"].is_string());
  EXPECT_TRUE(v["home"]["floor"].is_number_integer());
}

TEST(ConstrainedOutputTest, EveryAnswerToAJsonSchemaParsesAndValidates) {
  std::unique_ptr<Engine> engine = Open();
  ASSERT_TRUE(engine);
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    GenerationRequest chat = Chat("Describe a person as JSON.", seed);
    chat.constraints.json_schema = kSchema;
    GenerationEvent ev = Generate(*engine, chat);
    ASSERT_EQ(ev.result.finish_reason, FinishReason::kStop) << "seed " << seed << ": " << ev.text;
    ASSERT_TRUE(ev.message.has_value());
    common_json v = common_json::parse_no_throw(ev.message->content);
    ASSERT_FALSE(v.is_null()) << "seed " << seed << " gave no JSON: " << ev.message->content;
    ExpectMatchesSchema(v);

    // The same schema on a plain prompt (completions).
    GenerationRequest plain = Chat("", seed);
    plain.messages.clear();
    plain.prompt = "A person as JSON:";
    plain.constraints.json_schema = kSchema;
    GenerationEvent p = Generate(*engine, plain);
    ASSERT_EQ(p.result.finish_reason, FinishReason::kStop) << p.text;
    common_json pv = common_json::parse_no_throw(p.text);
    ASSERT_FALSE(pv.is_null()) << p.text;
    ExpectMatchesSchema(pv);
  }
}

TEST(ConstrainedOutputTest, ARequiredToolIsCalledWithArgumentsThatParse) {
  std::unique_ptr<Engine> engine = Open();
  ASSERT_TRUE(engine);
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    GenerationRequest r = Chat("What is the weather in Oslo?", seed);
    r.constraints.tools = {{"get_weather", "Weather in a city",
                            R"({"type":"object","properties":{"city":{"type":"string","maxLength":10},)"
                            R"("unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city","unit"]})"}};
    r.constraints.tool_choice = ToolChoice::kRequired;
    r.constraints.parallel_tool_calls = false;
    GenerationEvent ev = Generate(*engine, r);
    ASSERT_TRUE(ev.message.has_value()) << ev.text;
    ASSERT_EQ(ev.message->tool_calls.size(), 1u) << "seed " << seed << ": " << ev.text;
    const ToolCall& call = ev.message->tool_calls[0];
    EXPECT_EQ(call.name, "get_weather");
    EXPECT_EQ(call.id.rfind("call_", 0), 0u);
    common_json args = common_json::parse_no_throw(call.arguments);
    ASSERT_TRUE(args.is_object()) << call.arguments;
    EXPECT_TRUE(args["city"].is_string());
    std::string unit = args["unit"].get<std::string>();
    EXPECT_TRUE(unit == "celsius" || unit == "fahrenheit");
  }
}

TEST(ConstrainedOutputTest, AGrammarIsFollowedAndABadOneRefused) {
  std::unique_ptr<Engine> engine = Open();
  ASSERT_TRUE(engine);
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    GenerationRequest r = Chat("", seed);
    r.messages.clear();
    r.prompt = "Answer:";
    r.constraints.grammar = R"(root ::= ("yes" | "no") " because " [a-z]{1,10} ".")";
    GenerationEvent ev = Generate(*engine, r);
    EXPECT_EQ(ev.result.finish_reason, FinishReason::kStop);
    EXPECT_TRUE(ev.text.rfind("yes because ", 0) == 0 || ev.text.rfind("no because ", 0) == 0) << ev.text;
    EXPECT_EQ(ev.text.back(), '.');
  }
  GenerationRequest bad = Chat("x", 1);
  bad.constraints.grammar = "root ::= (";
  EXPECT_EQ(engine->Submit(bad).status().code(), Status::Code::kInvalidArgument);
  bad.constraints.grammar = "%llguidance {}";
  EXPECT_EQ(engine->Submit(bad).status().code(), Status::Code::kInvalidArgument);
}

// A grammar that costs too much per token (here a 5,000-value enum: hundreds of ms a token on
// this machine) ends its own request with an error instead of stalling every slot; a cheap one
// under the same budget runs.
TEST(ConstrainedOutputTest, AGrammarTooCostlyPerTokenIsEnded) {
  std::unique_ptr<Engine> engine = Open(std::chrono::milliseconds(20));
  ASSERT_TRUE(engine);
  std::string values;
  for (int i = 0; i < 5000; ++i) values += (i ? "," : "") + std::to_string(i);
  GenerationRequest costly = Chat("A number.", 1);
  costly.max_tokens = 8;
  costly.constraints.json_schema = "{\"enum\":[" + values + "]}";
  GenerationEvent ev = Generate(*engine, costly);
  EXPECT_EQ(ev.result.finish_reason, FinishReason::kError) << ev.text;
  EXPECT_EQ(ev.result.error.code(), Status::Code::kInvalidArgument) << ev.result.error.ToString();

  GenerationRequest cheap = Chat("", 2);
  cheap.messages.clear();
  cheap.prompt = "Answer:";
  cheap.constraints.grammar = R"(root ::= ("yes" | "no"))";
  GenerationEvent ok = Generate(*engine, cheap);
  EXPECT_EQ(ok.result.finish_reason, FinishReason::kStop) << ok.result.error.ToString();
}

TEST(ConstrainedOutputTest, LogprobsDescribeEveryTokenAndSeedsRepeat) {
  std::unique_ptr<Engine> engine = Open();
  ASSERT_TRUE(engine);
  GenerationRequest r = Chat("Tell me a story.", 42);
  r.max_tokens = 12;
  r.ignore_eos = true;
  r.logprobs = true;
  r.top_logprobs = 3;
  GenerationEvent a = Generate(*engine, r);
  GenerationEvent b = Generate(*engine, r);
  EXPECT_EQ(a.text, b.text) << "the same seed gave another answer";
  ASSERT_EQ(a.logprobs.size(), 12u);
  for (const TokenLogprobs& t : a.logprobs) {
    EXPECT_FALSE(t.chosen.piece.empty());
    EXPECT_LE(t.chosen.logprob, 0.0f);
    ASSERT_EQ(t.top.size(), 3u);
    EXPECT_GE(t.top[0].logprob, t.top[1].logprob);
    EXPECT_GE(t.top[1].logprob, t.top[2].logprob);
    EXPECT_LE(t.chosen.logprob, t.top[0].logprob);
  }
  r.sampling.seed = 43;
  GenerationEvent c = Generate(*engine, r);
  EXPECT_NE(a.text, c.text) << "another seed gave the same answer";
}

}  // namespace
}  // namespace llamanet::engine
