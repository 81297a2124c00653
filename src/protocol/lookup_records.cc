#include "protocol/lookup_records.h"

#include "core/log.h"

namespace llamanet::protocol {

std::vector<NodeRecord> ReadNodeRecords(IdentityBook& book, const std::vector<dht::Record>& records, double now_s,
                                        const NodeRecordLimits& limits) {
  std::vector<NodeRecord> out;
  for (const dht::Record& r : book.Merge(records, now_s)) {
    if (r.withdrawn) continue;
    Result<NodeRecord> node = ParseNodeRecord(r.json, limits);
    if (!node.ok()) {
      LN_DEBUG << "skipping the record of " << r.node_id << ": " << node.status().message();
      continue;
    }
    out.push_back(std::move(node).value());
  }
  return out;
}

}  // namespace llamanet::protocol
