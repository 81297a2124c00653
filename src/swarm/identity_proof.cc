#include "swarm/identity_proof.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "dht/hex.h"
#include "http/json_body.h"

namespace llamanet::swarm {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

bool IsIdentityNonce(std::string_view nonce) { return nonce.size() == kIdentityNonceDigits && dht::IsHex(nonce); }

std::string NewIdentityNonce() {
  unsigned char bytes[kIdentityNonceDigits / 2];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";  // an empty nonce is refused by every check
  return dht::ToHex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string IdentityMessage(std::string_view nonce, std::string_view node_id) {
  std::string out = "llamanet-identity:";
  out += nonce;
  out += ':';
  out += node_id;
  return out;
}

Result<IdentityProof> ProveIdentity(const dht::IdentityKey& key, const std::string& node_id, const std::string& nonce) {
  if (!IsIdentityNonce(nonce)) return Status::InvalidArgument("nonce must be 32 hex digits");
  Result<std::string> sig = key.Sign(IdentityMessage(nonce, node_id));
  if (!sig.ok()) return sig.status();
  return IdentityProof{node_id, key.public_key_hex(), nonce, *sig};
}

std::string IdentityProofJson(const IdentityProof& p) {
  return http::DumpJson({{"node_id", p.node_id}, {"pubkey", p.pubkey}, {"nonce", p.nonce}, {"sig", p.sig}});
}

Status CheckIdentityProof(std::string_view json_text, std::string_view nonce, std::string_view node_id,
                          std::string_view pubkey) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (!j.is_object()) return Status::InvalidArgument("identity answer is not a JSON object");
  auto field = [&](const char* name) -> std::string {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (field("node_id") != node_id) return Status::InvalidArgument("identity answer names another node_id");
  if (Lower(field("pubkey")) != Lower(pubkey)) return Status::InvalidArgument("identity answer has another key");
  if (Lower(field("nonce")) != Lower(nonce)) return Status::InvalidArgument("identity answer is for another nonce");
  if (!dht::VerifySignature(pubkey, IdentityMessage(field("nonce"), node_id), field("sig")).ok()) {
    return Status::InvalidArgument("identity answer has a bad signature");
  }
  return Status::Ok();
}

}  // namespace llamanet::swarm
