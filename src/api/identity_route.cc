#include "api/identity_route.h"

#include "http/http_errors.h"

namespace llamanet::api {

void RegisterIdentityApi(http::HttpServer& server, IdentityProver prove) {
  server.Get(
      "/identity",
      [prove = std::move(prove)](const httplib::Request& req, httplib::Response& res) {
        const std::string nonce = req.get_param_value("nonce");
        if (!swarm::IsIdentityNonce(nonce)) {
          return http::SetNativeError(res, 400, "'nonce' must be 32 hex digits");
        }
        Result<swarm::IdentityProof> proof = prove(nonce);
        if (!proof.ok()) return http::SetNativeError(res, http::HttpStatusFor(proof.status()), proof.status().message());
        res.set_content(swarm::IdentityProofJson(*proof), "application/json");
      },
      http::Access::kOpen);
}

}  // namespace llamanet::api
