// Links every layer of the installed library (client, DHT, HTTP, OpenSSL) and checks a few
// documented behaviours that need no swarm.
#include <llamanet/client.h>

#include <iostream>

int main() {
  llamanet::ClientOptions bad;
  bad.max_attempts = 0;
  if (llamanet::Client::Create(bad).status().code() != llamanet::Status::Code::kInvalidArgument) {
    std::cerr << "bad options were accepted\n";
    return 1;
  }
  llamanet::ClientOptions options;
  options.bootstrap_nodes = {"127.0.0.1:9"};  // nobody answers there
  options.discovery_timeout = std::chrono::milliseconds(300);
  auto client = llamanet::Client::Create(options);
  if (!client.ok()) {
    std::cerr << client.status().ToString() << "\n";
    return 1;
  }
  auto r = (*client)->Generate({"Hello", {}}).get();
  if (r.status().code() != llamanet::Status::Code::kNotFound) {
    std::cerr << "expected NotFound, got " << r.status().ToString() << "\n";
    return 1;
  }
  (*client)->Close();
  std::cout << "consumer OK: " << r.status().ToString() << "\n";
  return 0;
}
