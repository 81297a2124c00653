// The node records a DHT lookup found, as a node or client may use them: one per node_id by the
// identity rules (identity.h), each valid by the record rules (node_record.h). Records that
// fail either are left out (and logged at debug level); so are tombstones (withdrawn).
#pragma once

#include <vector>

#include "dht/record.h"
#include "protocol/identity.h"
#include "protocol/node_record.h"

namespace llamanet::protocol {

// Freshest first, as IdentityBook::Merge orders them. `book` binds the ids it returns.
std::vector<NodeRecord> ReadNodeRecords(IdentityBook& book, const std::vector<dht::Record>& records, double now_s,
                                        const NodeRecordLimits& limits = {});

}  // namespace llamanet::protocol
