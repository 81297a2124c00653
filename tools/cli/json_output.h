// The --json shapes of the CLI's results, one compact JSON document per line.
#pragma once

#include <string>
#include <vector>

#include "llamanet/types.h"

namespace llamanet::cli {

// {"text","finish_reason","model","id","node_id","usage":{...},"attempts":[{"node_id",
//  "address","error"|null}],"filters_relaxed"}
std::string CompletionJson(const Completion& c);
// [{"node_id","ip","port","model","load","tps","uptime","last_seen","dht_port","slots",
//   "free_slots","queue","n_ctx","version"}, ...]
std::string NodesJson(const std::vector<NodeInfo>& nodes);
// {"node_id","address","healthy","model","uptime","load","tps","total_tokens","status":{...},
//  "health":{...}} with the node's own /status and /health bodies.
std::string NodeStatusJson(const NodeStatus& s);

}  // namespace llamanet::cli
