// A node record as the client API shows it: the protocol's record (protocol/node_record.h,
// parsed and validated there, the same way nodes do) as the public NodeInfo.
#pragma once

#include "llamanet/types.h"
#include "protocol/node_record.h"

namespace llamanet::client {

NodeInfo ToNodeInfo(const protocol::NodeRecord& record);

}  // namespace llamanet::client
