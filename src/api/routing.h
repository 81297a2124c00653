// How the generating routes reach the swarm: a route's handler is wrapped so that a request is
// served here, forwarded to the best peer, or answered 404 model_not_found.
#pragma once

#include <httplib.h>

#include <string>
#include <vector>

#include "api/api_context.h"
#include "swarm/router.h"

namespace llamanet::api {

// The handler to register for a route that runs the model (generation or embeddings): routed
// through the node's swarm when it has one, else served here.
httplib::Server::Handler RoutedHandler(ApiContext& node, httplib::Server::Handler local, bool openai_errors,
                                       swarm::Service service = swarm::Service::kGeneration);

// The models served anywhere in the swarm (this node's alone without a swarm).
std::vector<std::string> SwarmModels(const ApiContext& node);

}  // namespace llamanet::api
