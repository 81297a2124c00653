// GET /identity?nonce=<32 hex digits>: this node proves it holds the key of its DHT record
// (swarm/identity_proof.h), so that a peer forwards requests to this address only once it has
// seen that. Open under --api-key: it tells nothing the DHT record does not.
#pragma once

#include <functional>
#include <string>

#include "core/status.h"
#include "http/http_server.h"
#include "swarm/identity_proof.h"

namespace llamanet::api {

using IdentityProver = std::function<Result<swarm::IdentityProof>(const std::string& nonce)>;

// 200 with the proof; 400 {"detail"} when the nonce is missing or not 32 hex digits.
void RegisterIdentityApi(http::HttpServer& server, IdentityProver prove);

}  // namespace llamanet::api
