// llamanet status NODE: GET /status and /health of one node, by address or by node id.
#include <iomanip>
#include <iostream>

#include "cli_options.h"
#include "json_output.h"

namespace llamanet::cli {

int RunStatus(const CliOptions& o) {
  int code = kExitOk;
  // A host:port needs no swarm; a node id is looked up through the bootstrap nodes.
  std::unique_ptr<Client> client = MakeClient(o, /*requires_bootstrap=*/false, &code);
  if (!client) return code;
  Result<NodeStatus> s = client->GetNodeStatus(o.args[0]).get();
  if (!s.ok()) return Fail(s.status());
  if (o.json) {
    std::cout << NodeStatusJson(*s) << std::endl;
    return kExitOk;
  }
  std::cout << std::left << std::setw(14) << "node" << s->node_id << "\n"
            << std::setw(14) << "address" << s->address << "\n"
            << std::setw(14) << "healthy" << (s->healthy ? "yes" : "no") << "\n"
            << std::setw(14) << "model" << s->model << "\n"
            << std::setw(14) << "uptime" << std::fixed << std::setprecision(0) << s->uptime << " s\n"
            << std::setw(14) << "load" << std::setprecision(2) << s->load << "\n"
            << std::setw(14) << "tps" << std::setprecision(1) << s->tps << "\n"
            << std::setw(14) << "total tokens" << s->total_tokens << "\n";
  return kExitOk;
}

}  // namespace llamanet::cli
