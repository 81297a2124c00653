// Ed25519 signatures of records (PROTOCOL.md section 3, "Signed records"). A signed record has
// `pubkey` (64 hex digits, the raw 32-byte public key) and `sig` (128 hex digits, the raw
// 64-byte signature) over the record's canonical JSON without `sig` (keys sorted, no
// whitespace; `pubkey` included). OpenSSL 3 does the cryptography.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "dht/record.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace llamanet::dht {

// An Ed25519 key pair: a node's identity. Immutable; Sign is thread-safe. Copies share the key.
class IdentityKey {
 public:
  static Result<IdentityKey> Generate();
  // Loads the PEM (PKCS#8) private key at `path`, or creates one there with mode 0600 when the
  // file does not exist. IoError when the file cannot be read or written; InvalidArgument when
  // it is not an Ed25519 key or when its permissions let the group or others read it.
  static Result<IdentityKey> LoadOrCreate(const std::string& path);

  const std::string& public_key_hex() const { return public_key_hex_; }
  // The 64-byte signature of `message` as 128 hex digits. Internal on an OpenSSL failure.
  Result<std::string> Sign(std::string_view message) const;

 private:
  static Result<IdentityKey> FromPkey(EVP_PKEY* pkey);  // takes ownership
  std::shared_ptr<EVP_PKEY> key_;
  std::string public_key_hex_;
};

// `record` with `pubkey` set to the key and `sig` computed over the rest. Any old signature is
// replaced. Internal on an OpenSSL failure.
Result<Record> SignRecord(const Record& record, const IdentityKey& key);

// OK when `sig_hex` (128 hex digits) is the Ed25519 signature of `message` by the key
// `pubkey_hex` (64 hex digits, the raw public key); InvalidArgument("bad signature") otherwise,
// malformed hex included. The one check behind every signature LlamaNet verifies.
Status VerifySignature(std::string_view pubkey_hex, std::string_view message, std::string_view sig_hex);

// OK when `record` is signed and the signature verifies; InvalidArgument("unsigned record")
// when it has no signature, InvalidArgument("bad signature") when it does not verify.
Status VerifyRecordSignature(const Record& record);

// Identity binding: a C++ node's node_id is the first 16 hex digits of its public key, so a
// signed record whose node_id has that form (16 lower-case hex digits) must carry the key it was
// derived from; otherwise anyone could sign a record for another node's id with a key of their
// own. InvalidArgument("node_id is not derived from the record's key") when it does not;
// OK for unsigned records and for other node_id forms (names such as "bootstrap-node").
Status CheckIdentityBinding(const Record& record);

}  // namespace llamanet::dht
