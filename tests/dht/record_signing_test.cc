#include "dht/record_signing.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace llamanet::dht {
namespace {

TEST(RecordSigningTest, SignsAndVerifiesOverCanonicalJson) {
  auto key = IdentityKey::Generate();
  ASSERT_TRUE(key.ok());
  auto record = ParseRecord(R"({"port":8000,"node_id":"n","last_seen":5,"model":"m"})");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(VerifyRecordSignature(*record).message(), "unsigned record");
  auto signed_record = SignRecord(*record, *key);
  ASSERT_TRUE(signed_record.ok());
  EXPECT_EQ(signed_record->pubkey, key->public_key_hex());
  EXPECT_EQ(signed_record->pubkey.size(), 64u);
  EXPECT_TRUE(VerifyRecordSignature(*signed_record).ok());
  // Key order in the text does not matter: the canonical form sorts keys.
  EXPECT_EQ(signed_record->json.rfind(R"({"last_seen":5,"model":"m","node_id":"n")", 0), 0u);
  // Any change breaks the signature.
  std::string changed = signed_record->json;
  changed.replace(changed.find("\"m\""), 3, "\"x\"");
  EXPECT_EQ(VerifyRecordSignature(*ParseRecord(changed)).message(), "bad signature");
  // Re-signing replaces the old signature.
  auto again = SignRecord(*signed_record, *IdentityKey::Generate());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(VerifyRecordSignature(*again).ok());
  EXPECT_NE(again->pubkey, signed_record->pubkey);
}

TEST(RecordTest, ContentDigestIgnoresTimeAndSignatureOnly) {
  auto key = IdentityKey::Generate();
  ASSERT_TRUE(key.ok());
  auto at = [&](double last_seen, double uptime, double load) {
    return *SignRecord(*ParseRecord(R"({"node_id":"n","model":"m","last_seen":)" + std::to_string(last_seen) +
                                    R"(,"uptime":)" + std::to_string(uptime) + R"(,"load":)" + std::to_string(load) + "}"),
                       *key);
  };
  const std::string digest = ContentDigest(at(5, 1, 0.25));
  EXPECT_EQ(digest.size(), 16u);
  EXPECT_EQ(ContentDigest(at(95, 91, 0.25)), digest);  // later, same state: the same
  EXPECT_NE(ContentDigest(at(5, 1, 0.5)), digest);     // another load: another digest
  Record other_key = *SignRecord(*ParseRecord(R"({"node_id":"n","model":"m","last_seen":5,"uptime":1,"load":0.25})"),
                                 *IdentityKey::Generate());
  EXPECT_NE(ContentDigest(other_key), digest);  // the signer is part of what a record says
}

TEST(RecordSigningTest, VerifySignatureChecksKeyMessageAndShape) {
  auto key = IdentityKey::Generate();
  ASSERT_TRUE(key.ok());
  auto other = IdentityKey::Generate();
  ASSERT_TRUE(other.ok());
  auto sig = key->Sign("llamanet-identity:00:n1");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifySignature(key->public_key_hex(), "llamanet-identity:00:n1", *sig).ok());
  EXPECT_FALSE(VerifySignature(key->public_key_hex(), "llamanet-identity:00:n2", *sig).ok());
  EXPECT_FALSE(VerifySignature(other->public_key_hex(), "llamanet-identity:00:n1", *sig).ok());
  EXPECT_FALSE(VerifySignature(key->public_key_hex(), "llamanet-identity:00:n1", sig->substr(2)).ok());
  EXPECT_FALSE(VerifySignature(key->public_key_hex().substr(2), "llamanet-identity:00:n1", *sig).ok());
  EXPECT_FALSE(VerifySignature("zz" + key->public_key_hex().substr(2), "llamanet-identity:00:n1", *sig).ok());
  EXPECT_FALSE(VerifySignature("", "", "").ok());
}

TEST(RecordSigningTest, IdentityKeyIsCreatedWith0600AndLoadedBack) {
  const std::string dir = ::testing::TempDir() + "/dht_identity_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/node.key";
  std::filesystem::remove(path);
  auto created = IdentityKey::LoadOrCreate(path);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = IdentityKey::LoadOrCreate(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->public_key_hex(), created->public_key_hex());
  ::chmod(path.c_str(), 0644);
  auto open = IdentityKey::LoadOrCreate(path);
  EXPECT_EQ(open.status().code(), Status::Code::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

TEST(RecordSigningTest, RejectsAFileThatIsNotAKey) {
  const std::string path = ::testing::TempDir() + "/dht_notakey_" + std::to_string(::getpid());
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("hello\n", f);
  std::fclose(f);
  ::chmod(path.c_str(), 0600);
  EXPECT_EQ(IdentityKey::LoadOrCreate(path).status().code(), Status::Code::kInvalidArgument);
  std::filesystem::remove(path);
}

TEST(RecordTest, ParseRecordNamesTheBadField) {
  EXPECT_EQ(ParseRecord("[]").status().message(), "record: not an object");
  EXPECT_EQ(ParseRecord("{").status().message(), "record: not valid JSON");
  EXPECT_EQ(ParseRecord(R"({"last_seen":1})").status().message(), "record: node_id must be a string of 1..128 bytes");
  EXPECT_EQ(ParseRecord(R"({"node_id":"a","last_seen":-1})").status().message(),
            "record: last_seen must be a finite number >= 0");
  EXPECT_EQ(ParseRecord(R"({"node_id":"a","last_seen":1,"withdrawn":1})").status().message(),
            "record: withdrawn must be a bool");
  EXPECT_EQ(ParseRecord(R"({"node_id":"a","last_seen":1,"pubkey":"ab","sig":"cd"})").status().message(),
            "record: pubkey must be 64 hex digits");
}

}  // namespace
}  // namespace llamanet::dht
