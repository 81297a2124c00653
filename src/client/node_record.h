// Reads a node record from the DHT (PROTOCOL.md section 3) into the public NodeInfo. The client
// parses the fields it needs itself: it depends on dht/ and core/ only, never on node/.
#pragma once

#include <string_view>

#include "llamanet/status.h"
#include "llamanet/types.h"

namespace llamanet::client {

// InvalidArgument names a missing or mistyped required field (node_id, ip, port, model) or a
// port outside 1..65535; optional fields that are missing or mistyped keep their defaults
// (a Python node's record lacks most of them).
Result<NodeInfo> ParseNodeRecord(std::string_view json_text);

}  // namespace llamanet::client
