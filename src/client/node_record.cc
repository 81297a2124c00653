#include "client/node_record.h"

namespace llamanet {

std::string NodeInfo::address() const {
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

namespace client {

NodeInfo ToNodeInfo(const protocol::NodeRecord& r) {
  NodeInfo n;
  n.node_id = r.node_id;
  n.ip = r.ip;
  n.port = r.port;
  n.model = r.model;
  n.load = r.load;
  n.tps = r.tps;
  n.uptime = r.uptime;
  n.last_seen = r.last_seen;
  n.dht_port = r.dht_port;
  n.slots = r.slots;
  n.free_slots = r.free_slots;
  n.queue = r.queue;
  n.n_ctx = r.n_ctx;
  n.model_sha256 = r.model_sha256;
  n.version = r.version;
  n.generation = r.generation;
  n.embeddings = r.embeddings;
  return n;
}

}  // namespace client
}  // namespace llamanet
