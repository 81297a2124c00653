// The swarm routes of PROTOCOL.md section 2: GET /nodes (the live nodes of the whole swarm)
// and GET /dht/status (this node's routing table and stored keys).
#pragma once

#include <httplib.h>

#include "dht/dht_node.h"
#include "http/http_server.h"
#include "swarm/swarm.h"

namespace llamanet::api {

void RegisterSwarmApi(http::HttpServer& server, swarm::Swarm& swarm);

}  // namespace llamanet::api
