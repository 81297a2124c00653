#include "api/cache_route.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "http/http_errors.h"
#include "http/json_body.h"
#include "protocol/affinity.h"

namespace llamanet::api {

void RegisterCacheApi(http::HttpServer& server, ApiContext& node) {
  server.Get("/cache", [&node](const httplib::Request& req, httplib::Response& res) {
    uint64_t conversation = protocol::ParseConversationHex(req.get_param_value("conversation"));
    if (conversation == 0) return http::SetNativeError(res, 400, "'conversation' must be 16 hex digits");
    engine::EngineMetrics m = node.engine->Metrics();
    int32_t free_slots = node.running ? std::max(0, m.slots_total - m.slots_busy - m.queue_length) : 0;
    http::SetJson(res, nlohmann::json{{"node_id", node.node_id},
                                      {"model", node.engine->Model().name},
                                      {"conversation", protocol::ConversationHex(conversation)},
                                      {"cached_tokens", node.engine->CachedTokensFor(conversation)},
                                      {"free_slots", free_slots},
                                      {"conversations", m.cached_conversations},
                                      {"slots", m.slots_total},
                                      {"queue", m.queue_length}});
  });
}

}  // namespace llamanet::api
