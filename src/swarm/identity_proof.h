// A node's proof that it holds the key of its DHT record: the answer to
// GET /identity?nonce=<32 hex digits>, `{"node_id","pubkey","nonce","sig"}` with `sig` the Ed25519
// signature over "llamanet-identity:<nonce>:<node_id>". A node asks for one, with a fresh
// nonce, at the address a peer's record advertises before it forwards anything there
// (peer_verifier.h). The prefix keeps these signatures apart from record signatures, which sign
// a JSON object.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "dht/record_signing.h"

namespace llamanet::swarm {

struct IdentityProof {
  std::string node_id;
  std::string pubkey;  // 64 hex digits
  std::string nonce;   // as asked
  std::string sig;     // 128 hex digits
};

inline constexpr size_t kIdentityNonceDigits = 32;

// Whether `nonce` is exactly 32 hex digits (either case).
bool IsIdentityNonce(std::string_view nonce);
// 32 lower-case hex digits from the system's random source.
std::string NewIdentityNonce();
// What the signature covers.
std::string IdentityMessage(std::string_view nonce, std::string_view node_id);

// The proof for `nonce`. InvalidArgument when it is not a nonce; Internal on an OpenSSL failure.
Result<IdentityProof> ProveIdentity(const dht::IdentityKey& key, const std::string& node_id, const std::string& nonce);
std::string IdentityProofJson(const IdentityProof& proof);

// OK when `json_text` proves that the holder of `pubkey` answered `nonce` as `node_id`;
// InvalidArgument naming the first thing that differs (not JSON, another node_id, another key,
// another nonce, a bad signature).
Status CheckIdentityProof(std::string_view json_text, std::string_view nonce, std::string_view node_id,
                          std::string_view pubkey);

}  // namespace llamanet::swarm
