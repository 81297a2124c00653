#include "swarm/identity_proof.h"

#include <gtest/gtest.h>

namespace llamanet::swarm {
namespace {

TEST(IdentityProofTest, ProvesAndChecksAgainstNonceIdAndKey) {
  dht::IdentityKey key = dht::IdentityKey::Generate().value();
  dht::IdentityKey other = dht::IdentityKey::Generate().value();
  std::string nonce = NewIdentityNonce();
  ASSERT_TRUE(IsIdentityNonce(nonce));
  EXPECT_NE(nonce, NewIdentityNonce());

  Result<IdentityProof> proof = ProveIdentity(key, "n1", nonce);
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(proof->pubkey, key.public_key_hex());
  std::string json = IdentityProofJson(*proof);
  EXPECT_TRUE(CheckIdentityProof(json, nonce, "n1", key.public_key_hex()).ok());
  EXPECT_EQ(CheckIdentityProof(json, NewIdentityNonce(), "n1", key.public_key_hex()).message(),
            "identity answer is for another nonce");
  EXPECT_EQ(CheckIdentityProof(json, nonce, "n2", key.public_key_hex()).message(),
            "identity answer names another node_id");
  EXPECT_EQ(CheckIdentityProof(json, nonce, "n1", other.public_key_hex()).message(),
            "identity answer has another key");
  EXPECT_EQ(CheckIdentityProof("<html>", nonce, "n1", key.public_key_hex()).message(),
            "identity answer is not a JSON object");

  // Another key's signature under the right key's name.
  IdentityProof forged = ProveIdentity(other, "n1", nonce).value();
  forged.pubkey = key.public_key_hex();
  EXPECT_EQ(CheckIdentityProof(IdentityProofJson(forged), nonce, "n1", key.public_key_hex()).message(),
            "identity answer has a bad signature");
}

TEST(IdentityProofTest, OnlyA32HexDigitNonceIsSigned) {
  dht::IdentityKey key = dht::IdentityKey::Generate().value();
  for (const std::string& bad : {std::string(), std::string(31, 'a'), std::string(33, 'a'), std::string(32, 'g'),
                                 std::string("{\"node_id\":\"x\"}")}) {
    EXPECT_FALSE(IsIdentityNonce(bad)) << bad;
    EXPECT_EQ(ProveIdentity(key, "n1", bad).status().code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(IsIdentityNonce(std::string(32, 'A')));
}

}  // namespace
}  // namespace llamanet::swarm
