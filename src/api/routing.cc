#include "api/routing.h"

#include "swarm/swarm.h"

namespace llamanet::api {

httplib::Server::Handler RoutedHandler(ApiContext& node, httplib::Server::Handler local, bool openai_errors,
                                       swarm::Service service) {
  return node.swarm ? node.swarm->Routed(std::move(local), openai_errors, service) : local;
}

std::vector<std::string> SwarmModels(const ApiContext& node) {
  if (node.swarm) return node.swarm->Models();
  return {node.engine->Model().name};
}

}  // namespace llamanet::api
