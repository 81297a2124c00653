// The swarm routes of PROTOCOL.md section 2: GET /nodes (the live nodes of the whole swarm)
// and GET /dht/status (this node's routing table and stored keys).
#pragma once

#include <httplib.h>

#include "dht/dht_node.h"
#include "node/http_server.h"
#include "node/swarm_view.h"

namespace llamanet::node {

void RegisterSwarmApi(HttpServer& server, SwarmView& view, dht::DhtNode& dht);

}  // namespace llamanet::node
