// simple_client: the client library in a few lines, as in the README. It lists the swarm's
// nodes, asks for a chat completion and a text completion, and sends a few requests to show
// how they spread over the nodes.
//
//   simple_client [BOOTSTRAP_HOST:DHT_PORT]   (default: $BOOTSTRAP_NODES, else localhost:8001)
#include <llamanet/client.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  llamanet::ClientOptions options;
  const char* env = std::getenv("BOOTSTRAP_NODES");
  options.bootstrap_nodes = {argc > 1 ? argv[1] : env && *env ? env : "localhost:8001"};
  options.model = "llamanet";  // any model

  auto created = llamanet::Client::Create(options);
  if (!created.ok()) {
    std::cerr << "cannot start the client: " << created.status().ToString() << "\n";
    return 1;
  }
  llamanet::Client& client = **created;

  auto nodes = client.Nodes().get();
  if (!nodes.ok()) {
    std::cerr << "no swarm: " << nodes.status().ToString() << "\n";
    return 1;
  }
  std::cout << "Available nodes: " << nodes->size() << "\n";
  for (const llamanet::NodeInfo& n : *nodes) {
    std::printf("  * %s (%s) - %s - load %.2f\n", n.node_id.c_str(), n.address().c_str(), n.model.c_str(), n.load);
  }

  std::cout << "\nChat completion:\n";
  llamanet::ChatRequest chat;
  chat.messages = {{"system", "You are a helpful assistant."}, {"user", "What is LlamaNet and how does it work?"}};
  chat.params.max_tokens = 150;
  auto answer = client.Chat(chat).get();
  if (answer.ok()) {
    std::cout << "  id: " << answer->id << "\n  model: " << answer->model << "\n  node: " << answer->node_id
              << "\n  content: " << answer->text << "\n  tokens used: " << answer->usage.total_tokens << "\n";
  } else {
    std::cout << "  failed: " << answer.status().ToString() << "\n";
  }

  std::cout << "\nText completion, streamed:\n  ";
  llamanet::GenerateRequest generate{"LlamaNet is a decentralized inference network that", {}};
  auto streamed = client.GenerateStream(generate, [](std::string_view piece) {
    std::cout << piece << std::flush;  // runs on a client thread, one piece after the other
  }).get();
  std::cout << "\n  " << (streamed.ok() ? "served by " + streamed->node_id : streamed.status().ToString()) << "\n";

  std::cout << "\nSix requests at once:\n";
  std::vector<std::future<llamanet::Result<llamanet::Completion>>> replies;
  for (int i = 1; i <= 6; ++i) {
    replies.push_back(client.Chat({{{"user", "Hello " + std::to_string(i)}}, {.max_tokens = 50}}));
  }
  for (size_t i = 0; i < replies.size(); ++i) {
    auto r = replies[i].get();
    std::cout << "  request " << i + 1 << ": " << (r.ok() ? "served by " + r->node_id : r.status().ToString()) << "\n";
  }
  client.Close();
  return 0;
}
