// llamanet nodes: a table of the live nodes (--json: an array); --watch redraws it.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli_options.h"
#include "json_output.h"

namespace llamanet::cli {
namespace {

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds);
  std::ostringstream out;
  if (s >= 86400) {
    out << s / 86400 << "d" << (s % 86400) / 3600 << "h";
  } else if (s >= 3600) {
    out << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s % 3600) / 60 << "m";
  } else if (s >= 60) {
    out << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
  } else {
    out << s << "s";
  }
  return out.str();
}

std::string Table(const std::vector<NodeInfo>& nodes) {
  std::ostringstream out;
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  out << std::left << std::setw(24) << "NODE" << std::setw(22) << "ADDRESS" << std::setw(24) << "MODEL" << std::right
      << std::setw(6) << "LOAD" << std::setw(8) << "TPS" << std::setw(7) << "SLOTS" << std::setw(7) << "QUEUE"
      << std::setw(9) << "UPTIME" << std::setw(7) << "SEEN" << "\n";
  for (const NodeInfo& n : nodes) {
    const std::string slots = n.slots > 0 ? std::to_string(n.free_slots) + "/" + std::to_string(n.slots) : "-";
    out << std::left << std::setw(24) << n.node_id.substr(0, 23) << std::setw(22) << n.address() << std::setw(24)
        << n.model.substr(0, 23) << std::right << std::fixed << std::setprecision(2) << std::setw(6) << n.load
        << std::setprecision(1) << std::setw(8) << n.tps << std::setw(7) << slots << std::setw(7) << n.queue
        << std::setw(9) << Duration(n.uptime) << std::setw(7) << Duration(std::max(0.0, now - n.last_seen)) << "\n";
  }
  return out.str();
}

// One look at the swarm; the exit code it earns.
int Show(Client& client, const CliOptions& o, bool redraw) {
  Result<std::vector<NodeInfo>> nodes = client.Nodes(/*refresh=*/true).get();
  if (redraw) std::cout << "\x1b[H\x1b[2J";
  if (!nodes.ok()) {
    std::cout << std::flush;
    return Fail(nodes.status());
  }
  if (o.json) {
    std::cout << NodesJson(*nodes) << std::endl;
  } else {
    if (redraw) {
      const std::time_t t = std::time(nullptr);
      std::cout << "llamanet nodes, every " << o.interval_s << " s   " << std::put_time(std::localtime(&t), "%H:%M:%S")
                << "\n\n";
    }
    std::cout << Table(*nodes) << (nodes->empty() ? "(no live nodes)\n" : "") << std::flush;
  }
  return nodes->empty() ? kExitNoNode : kExitOk;
}

}  // namespace

int RunNodes(const CliOptions& o) {
  int code = kExitOk;
  std::unique_ptr<Client> client = MakeClient(o, /*requires_bootstrap=*/true, &code);
  if (!client) return code;
  if (!o.watch) return Show(*client, o, /*redraw=*/false);
  const bool redraw = !o.json && ::isatty(STDOUT_FILENO) != 0;
  const auto interval = std::chrono::milliseconds(static_cast<int64_t>(o.interval_s * 1000));
  while (true) {  // until interrupted (Ctrl-C), as `watch` does
    Show(*client, o, redraw);
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace llamanet::cli
