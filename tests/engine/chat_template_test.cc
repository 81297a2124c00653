// Chat prompts from the model's own Jinja template (the tiny model's: ChatML with Hermes-style
// tools, written by llamanet-mkmodel), and answers constrained and read back the template's way.
#include "engine/chat_template.h"

#include <gtest/gtest.h>

#include <chrono>

#include "engine/llama_engine.h"
#include "engine/model_loader.h"
#include "json.h"

namespace llamanet::engine {
namespace {

const char kWeather[] =
    R"({"type":"object","properties":{"city":{"type":"string","maxLength":12},)"
    R"("unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city","unit"]})";

class ChatTemplateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitLlamaBackend();
    Result<LlamaModelPtr> m = LoadModel({LLAMANET_TINY_MODEL, 0, false});
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
  }
  LlamaModelPtr model_;
};

TEST_F(ChatTemplateTest, RendersEveryKindOfMessageThroughJinja) {
  ChatTemplate tmpl(model_.get());
  ASSERT_TRUE(tmpl.from_model());
  ASSERT_TRUE(tmpl.jinja());
  std::vector<ChatMessage> messages = {
      {"system", "Be brief."},
      {"user", "Weather in Oslo?"},
      {"assistant", "", {{"call_1", "get_weather", R"({"city":"Oslo","unit":"celsius"})"}}},
      {"tool", "{\"temperature\": 3}", {}, "call_1"},
      {"user", "Thanks"}};
  OutputConstraints c;
  c.tools = {{"get_weather", "Current weather in a city", kWeather}};
  Result<ChatPlan> plan = tmpl.Apply(messages, c);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const std::string& text = plan->prompt.text;
  EXPECT_EQ(text.rfind("<|im_start|>system\nBe brief.\n\nYou may call functions", 0), 0u) << text;
  EXPECT_NE(text.find("\"name\": \"get_weather\""), std::string::npos) << "the tool is not listed:\n" << text;
  EXPECT_NE(text.find("<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "),
            std::string::npos)
      << "the assistant's call is not rendered:\n" << text;
  EXPECT_NE(text.find("<|im_start|>user\n<tool_response>\n{\"temperature\": 3}\n</tool_response><|im_end|>"),
            std::string::npos)
      << "the tool result is not rendered:\n" << text;
  EXPECT_TRUE(text.size() > 24 && text.compare(text.size() - 22, 22, "<|im_start|>assistant\n") == 0) << text;
  // Every content is marked as content (so never tokenized as special tokens).
  ASSERT_EQ(plan->prompt.content.size(), 4u);
  auto [b, e] = plan->prompt.content[2];
  EXPECT_EQ(text.substr(b, e - b), "{\"temperature\": 3}");
  EXPECT_FALSE(plan->grammar.grammar.empty()) << "tools with tool_choice auto come with a (lazy) grammar";
  EXPECT_TRUE(plan->grammar.lazy);
  ASSERT_NE(plan->parser, nullptr);

  // Without tools the same template is plain ChatML.
  Result<ChatPlan> plain = tmpl.Apply({{"system", "S"}, {"user", "U"}}, {});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->prompt.text, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(plain->parser, nullptr);
  EXPECT_TRUE(plain->grammar.grammar.empty());
}

TEST_F(ChatTemplateTest, TheParserReadsTheTemplatesToolCallSyntax) {
  ChatTemplate tmpl(model_.get());
  OutputConstraints c;
  c.tools = {{"get_weather", "", kWeather}};
  Result<ChatPlan> plan = tmpl.Apply({{"user", "Weather?"}}, c);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_NE(plan->parser, nullptr);
  std::optional<AssistantMessage> m = plan->parser->Read(
      "Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"unit\": "
      "\"celsius\"}}\n</tool_call>",
      false);
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->tool_calls.size(), 1u);
  EXPECT_EQ(m->tool_calls[0].name, "get_weather");
  common_json args = common_json::parse(m->tool_calls[0].arguments);
  EXPECT_EQ(args["city"].get<std::string>(), "Oslo");
  EXPECT_EQ(m->content.rfind("Let me look.", 0), 0u) << m->content;

  // Cut short in a second call: the first still counts, the second is dropped.
  const std::string call = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"unit\": \"celsius\"}}\n</tool_call>";
  std::optional<AssistantMessage> cut = plan->parser->Read(call + "\n" + call.substr(0, call.size() - 30), false);
  ASSERT_TRUE(cut.has_value());
  ASSERT_EQ(cut->tool_calls.size(), 1u) << cut->tool_calls.back().arguments;
  EXPECT_EQ(common_json::parse(cut->tool_calls[0].arguments)["unit"].get<std::string>(), "celsius");

  std::optional<AssistantMessage> plain = plan->parser->Read("No call here.", false);
  ASSERT_TRUE(plain.has_value());
  EXPECT_TRUE(plain->tool_calls.empty());
  EXPECT_EQ(plain->content, "No call here.");
}

TEST_F(ChatTemplateTest, RefusesWhatTheTemplateCannotRender) {
  ChatTemplate tmpl(model_.get());
  EXPECT_EQ(tmpl.Apply({{"robot", "x"}}, {}).status().code(), Status::Code::kInvalidArgument);
  OutputConstraints both;
  both.grammar = "root ::= \"a\"";
  both.json_schema = "{}";
  EXPECT_EQ(tmpl.Apply({{"user", "x"}}, both).status().code(), Status::Code::kInvalidArgument);
  OutputConstraints bad_schema;
  bad_schema.json_schema = "{\"type\": 12";
  EXPECT_EQ(PlainGrammar(bad_schema).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace llamanet::engine
