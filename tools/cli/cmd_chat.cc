// llamanet chat: one user message per line of stdin; each answer streams to stdout and both
// stay in the history that every later turn sends. /reset forgets the history, /exit (or
// end of input) ends the chat. --json: one JSON object per answer instead.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "cli_options.h"
#include "json_output.h"

namespace llamanet::cli {
namespace {

std::vector<ChatMessage> Fresh(const CliOptions& o) {
  if (o.system_prompt.empty()) return {};
  return {ChatMessage{"system", o.system_prompt}};
}

}  // namespace

int RunChat(const CliOptions& o) {
  int code = kExitOk;
  std::unique_ptr<Client> client = MakeClient(o, /*requires_bootstrap=*/true, &code);
  if (!client) return code;
  const bool interactive = ::isatty(STDIN_FILENO) != 0;
  if (interactive && !o.json) std::cerr << "Chat with the swarm. /reset forgets the history, /exit ends.\n";

  std::vector<ChatMessage> history = Fresh(o);
  std::string line;
  while (true) {
    if (interactive) std::cerr << "> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      history = Fresh(o);
      continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    history.push_back({"user", line});
    ChatRequest request{history, ToSampling(o)};
    bool streamed = false;  // written on the client's worker, read after get()
    Result<Completion> answer = [&] {
      if (o.json) return client->Chat(std::move(request)).get();
      return client
          ->ChatStream(std::move(request),
                       [&streamed](std::string_view piece) {
                         streamed = true;
                         std::fwrite(piece.data(), 1, piece.size(), stdout);
                         std::fflush(stdout);
                       })
          .get();
    }();
    if (!answer.ok()) {
      if (streamed) std::fputc('\n', stdout);
      code = Fail(answer.status());
      history.pop_back();  // the turn did not happen; the user may send it again
      continue;
    }
    code = kExitOk;
    history.push_back({"assistant", answer->text});
    if (o.json) {
      std::cout << CompletionJson(*answer) << std::endl;
    } else {
      std::cout << std::endl;
    }
    if (o.verbose) std::cerr << "llamanet: served by " << answer->node_id << "\n";
  }
  return code;  // that of the last turn
}

}  // namespace llamanet::cli
