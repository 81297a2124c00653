#include "node/config.h"

#include <gtest/gtest.h>

#include <map>

namespace llamanet::node {
namespace {

Result<ParsedCommandLine> Parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  return ParseConfig(args, [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

TEST(ConfigTest, DefaultsMatchThePythonNode) {
  Result<ParsedCommandLine> p = Parse({"--model-path", "m.gguf"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const NodeConfig& c = p->config;
  EXPECT_EQ(c.model_path, "m.gguf");
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 8000);
  EXPECT_EQ(c.dht_port, 8001);
  EXPECT_EQ(c.heartbeat_interval, 10);
  EXPECT_EQ(c.n_ctx, 2048);
  EXPECT_EQ(c.n_gpu_layers, 0);
  EXPECT_TRUE(c.bootstrap_nodes.empty());
}

TEST(ConfigTest, FlagBeatsVariableBeatsDefault) {
  Result<ParsedCommandLine> p =
      Parse({"--port", "9100", "--model-path=a.gguf"}, {{"PORT", "9000"}, {"HOST", "127.0.0.1"}, {"MODEL_PATH", "b.gguf"}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->config.port, 9100);
  EXPECT_EQ(p->config.host, "127.0.0.1");  // the Python node never read HOST
  EXPECT_EQ(p->config.model_path, "a.gguf");
  Result<ParsedCommandLine> env_only = Parse({}, {{"MODEL_PATH", "b.gguf"}, {"N_CTX", "4096"}});
  ASSERT_TRUE(env_only.ok());
  EXPECT_EQ(env_only->config.n_ctx, 4096);  // the Python node let the default win here
}

TEST(ConfigTest, BootstrapListParsesAndAcceptsALiteralEmptyString) {
  Result<ParsedCommandLine> p = Parse({"--model-path", "m", "--bootstrap-nodes", "a.example:8001, 10.0.0.2:9001"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->config.bootstrap_nodes, (std::vector<std::string>{"a.example:8001", "10.0.0.2:9001"}));
  Result<ParsedCommandLine> empty = Parse({"--model-path", "m"}, {{"BOOTSTRAP_NODES", "\"\""}});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->config.bootstrap_nodes.empty());
}

TEST(ConfigTest, AllowPrivatePeersIsOffUnlessAFlagOrItsVariableSaysSo) {
  EXPECT_FALSE(Parse({"--model-path", "m"})->config.allow_private_peers);
  EXPECT_TRUE(Parse({"--model-path", "m", "--allow-private-peers"})->config.allow_private_peers);
  EXPECT_TRUE(Parse({"--model-path", "m"}, {{"LLAMANET_ALLOW_PRIVATE_PEERS", "1"}})->config.allow_private_peers);
  EXPECT_FALSE(Parse({"--model-path", "m", "--allow-private-peers=false"}, {{"LLAMANET_ALLOW_PRIVATE_PEERS", "1"}})
                   ->config.allow_private_peers);
}

TEST(ConfigTest, ThePrefixCacheIsOnWithTwoGibibytesOfHostMemoryUnlessSaidOtherwise) {
  const NodeConfig d = Parse({"--model-path", "m"})->config;
  EXPECT_TRUE(d.prefix_cache);
  EXPECT_EQ(d.cache_ram_mib, 2048);
  Result<ParsedCommandLine> off = Parse({"--model-path", "m", "--prefix-cache=off", "--cache-ram", "0"});
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->config.prefix_cache);
  EXPECT_EQ(off->config.cache_ram_mib, 0);
  EXPECT_EQ(Parse({"--model-path", "m"}, {{"LLAMANET_CACHE_RAM", "512"}})->config.cache_ram_mib, 512);
  Result<ParsedCommandLine> bad = Parse({"--model-path", "m", "--cache-ram", "-1"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--cache-ram"), std::string::npos);
}

TEST(ConfigTest, EmbeddingsAreOnBesideGenerationUnlessSaidOtherwise) {
  const NodeConfig d = Parse({"--model-path", "m"})->config;
  EXPECT_TRUE(d.embeddings);
  EXPECT_FALSE(d.embeddings_only);
  EXPECT_EQ(d.embeddings_ctx, 512);
  EXPECT_FALSE(Parse({"--model-path", "m", "--embeddings=off"})->config.embeddings);
  EXPECT_FALSE(Parse({"--model-path", "m"}, {{"LLAMANET_EMBEDDINGS", "0"}})->config.embeddings);
  Result<ParsedCommandLine> only = Parse({"--model-path", "m", "--embeddings-only", "--embeddings-ctx", "2048"});
  ASSERT_TRUE(only.ok()) << only.status().ToString();
  EXPECT_TRUE(only->config.embeddings_only);
  EXPECT_EQ(only->config.embeddings_ctx, 2048);
  EXPECT_TRUE(Parse({"--model-path", "m"}, {{"LLAMANET_EMBEDDINGS_ONLY", "1"}})->config.embeddings_only);
  Result<ParsedCommandLine> contradiction = Parse({"--model-path", "m", "--embeddings-only", "--embeddings=off"});
  ASSERT_FALSE(contradiction.ok());
  EXPECT_NE(contradiction.status().message().find("--embeddings-only"), std::string::npos);
  Result<ParsedCommandLine> tiny = Parse({"--model-path", "m", "--embeddings-ctx", "4"});
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.status().message().find("--embeddings-ctx"), std::string::npos);
}

TEST(ConfigTest, BadValuesAreOneLineErrorsNamingTheSource) {
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string expect_in_message;
  };
  const std::vector<Case> cases = {
      {{"--model-path", "m", "--port", "70000"}, {}, "--port"},
      {{"--model-path", "m", "--port", "80x"}, {}, "not a whole number"},
      {{"--model-path", "m"}, {{"PORT", "-1"}}, "environment variable PORT"},
      {{"--model-path", "m", "--frobnicate"}, {}, "unknown option '--frobnicate'"},
      {{"--model-path"}, {}, "needs a value"},
      {{}, {}, "--model-path"},
      {{"--model-path", "m", "--node-id", std::string(65, 'a')}, {}, "64"},
      {{"--model-path", "m", "--node-id", "has space"}, {}, "printable"},
      {{"--model-path", "m", "--bootstrap-nodes", "nohost"}, {}, "host:port"},
      {{"--model-path", "m", "--bootstrap-nodes", "h:0"}, {}, "out of range"},
      {{"--model-path", "m", "--heartbeat-interval", "0"}, {}, "--heartbeat-interval"},
      {{"--model-path", "m", "--port", "8001"}, {}, "must differ"},
      {{"--model-path", "m", "--parallel", "8", "--n-batch", "4"}, {}, "--n-batch"},
      {{"--model-path", "m"}, {{"LLAMANET_VERBOSE", "maybe"}}, "true or false"},
  };
  for (const Case& c : cases) {
    Result<ParsedCommandLine> p = Parse(c.args, c.env);
    ASSERT_FALSE(p.ok()) << c.expect_in_message;
    EXPECT_EQ(p.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.expect_in_message), std::string::npos) << p.status().message();
    EXPECT_EQ(p.status().message().find('\n'), std::string::npos);
  }
}

TEST(ConfigTest, HelpListsEveryFlagWithItsVariable) {
  Result<ParsedCommandLine> p = Parse({"--help"});
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->print_and_exit.has_value());
  for (const char* s : {"--model-path", "[MODEL_PATH]", "--bootstrap-nodes", "[BOOTSTRAP_NODES]", "--public-host",
                        "--api-key", "[LLAMANET_API_KEY]", "--allow-private-peers", "[LLAMANET_ALLOW_PRIVATE_PEERS]"}) {
    EXPECT_NE(p->print_and_exit->find(s), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace llamanet::node
