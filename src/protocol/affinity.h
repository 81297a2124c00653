// Cache-aware routing, the rule that nodes and clients share: the turns of one conversation go
// to the node that holds its prefix in cache, so that only the new turn is decoded there.
// There is no central state: a conversation is named by a hash of its opening (the messages up
// to and including the first user message, or a prompt's first bytes), the nodes serving its
// model are ranked by rendezvous hashing on that name, and the first few of them are asked
// (GET /cache?conversation=...) how much of it they hold and how free they are. The choice
// weighs the cache against load, so that a conversation moves rather than queue behind a full
// node, and new conversations go where slots are free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace llamanet::protocol {

// How many of a conversation's ranked nodes are asked.
inline constexpr size_t kAffinityCandidates = 3;
// How much of a prompt (no messages) names its conversation.
inline constexpr size_t kPromptOpeningBytes = 256;

// A conversation's name: never 0. `opening` is (role, content) up to and including the first
// user message; a plain prompt is one ("prompt", its first kPromptOpeningBytes bytes).
uint64_t ConversationKey(const std::vector<std::pair<std::string, std::string>>& opening);

// The conversation of a parsed native or OpenAI request body: from its messages, else its
// prompt (a string, or a list's first); 0 when it has neither.
uint64_t ConversationOf(const nlohmann::json& body);

// The model and conversation of a request body (JSON text), read with one parse: model empty
// when absent, conversation 0 as above (or when the body is not a JSON object).
struct RoutingFacts {
  std::string model;
  uint64_t conversation = 0;
};
RoutingFacts ReadRoutingFacts(std::string_view body);

// The conversation key as it travels in GET /cache?conversation=: 16 lowercase hex digits.
std::string ConversationHex(uint64_t key);
// 0 when `hex` is not 16 hex digits.
uint64_t ParseConversationHex(std::string_view hex);

// `node_ids` reordered by rendezvous hashing on `conversation`: every caller that knows the
// same nodes ranks them the same, and a node joining or leaving moves only its own share.
std::vector<std::string> RendezvousRank(uint64_t conversation, std::vector<std::string> node_ids);

// What one candidate said of a conversation (or what its record says, when it did not answer).
struct CacheReport {
  std::string node_id;
  int32_t cached_tokens = 0;  // of the conversation's prompt, held there
  int32_t free_slots = 0;     // slots neither busy nor claimed by the queue
  int32_t conversations = 0;  // distinct conversations it holds: new ones go where fewest are
};

// The index of the node to serve the next turn, given `ranked` in rendezvous order (not empty):
//   1. of the nodes holding the conversation with a free slot, the one holding the most;
//   2. else, when a node with a free slot exists, the one holding the fewest conversations,
//      then the freest (the holders are full: the conversation moves rather than wait);
//   3. else the holder with the most cached, or the first ranked.
// Ties go to the earlier rank.
size_t ChooseForConversation(const std::vector<CacheReport>& ranked);

}  // namespace llamanet::protocol
