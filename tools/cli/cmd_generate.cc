// llamanet generate [PROMPT]: one completion, streamed to stdout (--json: one JSON object at
// the end instead).
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli_options.h"
#include "json_output.h"

namespace llamanet::cli {

int RunGenerate(const CliOptions& o) {
  GenerateRequest request;
  request.params = ToSampling(o);
  if (o.args.empty() || o.args[0] == "-") {
    request.prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    request.prompt = o.args[0];
  }
  if (request.prompt.empty()) {
    std::cerr << "llamanet: error: the prompt is empty\n";
    return kExitUsage;
  }
  int code = kExitOk;
  std::unique_ptr<Client> client = MakeClient(o, /*requires_bootstrap=*/true, &code);
  if (!client) return code;

  bool streamed = false;  // written on the client's worker, read after get()
  Result<Completion> done = [&] {
    if (o.json) return client->Generate(std::move(request)).get();
    return client
        ->GenerateStream(std::move(request),
                         [&streamed](std::string_view piece) {
                         streamed = true;
                           std::fwrite(piece.data(), 1, piece.size(), stdout);
                           std::fflush(stdout);
                         })
        .get();
  }();
  if (!done.ok()) {
    if (streamed) std::fputc('\n', stdout);
    return Fail(done.status());
  }
  if (o.json) {
    std::cout << CompletionJson(*done) << std::endl;
  } else {
    std::cout << std::endl;
  }
  if (done->filters_relaxed) std::cerr << "llamanet: note: no node met --min-tps/--max-load; any node was used\n";
  if (o.verbose) std::cerr << "llamanet: served by " << done->node_id << " (" << done->attempts.size() << " attempt(s))\n";
  return kExitOk;
}

}  // namespace llamanet::cli
