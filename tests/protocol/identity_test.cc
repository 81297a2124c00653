#include "protocol/identity.h"

#include <gtest/gtest.h>

#include "record_maker.h"

namespace llamanet::protocol {
namespace {

constexpr double kNow = 1'700'000'000;

class IdentityTest : public ::testing::Test {
 protected:
  dht::IdentityKey k1_ = NewKey();
  dht::IdentityKey k2_ = NewKey();
  std::string id1_ = NodeIdFromPublicKey(k1_.public_key_hex());
  IdentityOptions options_;
};

TEST_F(IdentityTest, DerivedIds) {
  EXPECT_EQ(id1_, k1_.public_key_hex().substr(0, 16));
  EXPECT_TRUE(HasDerivedIdForm(id1_));
  EXPECT_TRUE(HasDerivedIdForm("0123456789abcdef"));
  EXPECT_FALSE(HasDerivedIdForm("0123456789ABCDEF"));
  EXPECT_FALSE(HasDerivedIdForm("0123456789abcde"));
  EXPECT_FALSE(HasDerivedIdForm("0123456789abcdef0"));
  EXPECT_FALSE(HasDerivedIdForm("bootstrap-node"));
}

TEST_F(IdentityTest, ChecksOneRecord) {
  struct Case {
    dht::Record record;
    bool require_signed;
    const char* error;  // "" for OK
  } cases[] = {
      {MakeRecord(id1_, kNow, &k1_), false, ""},
      {MakeRecord(id1_, kNow, &k1_), true, ""},
      {MakeRecord("bootstrap-node", kNow, &k2_), false, ""},       // a custom id: any key may sign it
      {MakeRecord("0123456789abcdef", kNow, nullptr), false, ""},  // a Python node
      {MakeRecord("0123456789abcdef", kNow, nullptr), true, "unsigned record"},
      {MakeRecord(id1_, kNow, &k2_), false, "node_id not derived from pubkey"},  // forged id
      {MakeRecord(id1_, kNow + 30, &k1_), false, ""},
      {MakeRecord(id1_, kNow + 31, &k1_), false, "last_seen in the future"},
      {MakeRecord("py", kNow + 1e9, nullptr), false, "last_seen in the future"},
  };
  for (const Case& c : cases) {
    IdentityOptions o;
    o.require_signed = c.require_signed;
    Status s = CheckIdentity(c.record, kNow, o);
    EXPECT_EQ(s.message(), c.error) << c.record.json;
  }
  // A tampered record: the signature no longer holds.
  dht::Record signed_record = MakeRecord(id1_, kNow, &k1_);
  std::string text = signed_record.json;
  text.replace(text.find("10.0.0.2"), 8, "10.6.6.6");
  EXPECT_EQ(CheckIdentity(*dht::ParseRecord(text), kNow, options_).message(), "bad signature");
}

TEST_F(IdentityTest, SkewIsAnOption) {
  options_.max_future_skew_s = 0;
  EXPECT_TRUE(CheckIdentity(MakeRecord(id1_, kNow, &k1_), kNow, options_).ok());
  EXPECT_FALSE(CheckIdentity(MakeRecord(id1_, kNow + 0.5, &k1_), kNow, options_).ok());
}

TEST_F(IdentityTest, ForgedNodeIdNeverReplacesTheOwner) {
  IdentityBook book(options_);
  auto out = book.Merge({MakeRecord(id1_, kNow - 5, &k1_), MakeRecord(id1_, kNow, &k2_, R"("load":0)")}, kNow);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].pubkey, k1_.public_key_hex());
  // Alone, the forgery is no record at all.
  EXPECT_TRUE(IdentityBook(options_).Merge({MakeRecord(id1_, kNow, &k2_)}, kNow).empty());
}

TEST_F(IdentityTest, AnotherKeyCannotTakeOverACustomId) {
  IdentityBook book(options_);
  ASSERT_EQ(book.Merge({MakeRecord("bootstrap-node", kNow - 10, &k1_)}, kNow).size(), 1u);
  EXPECT_EQ(book.pins(), 1u);
  // A newer record of another key, alone or beside the owner's.
  EXPECT_TRUE(book.Merge({MakeRecord("bootstrap-node", kNow, &k2_)}, kNow).empty());
  auto out = book.Merge({MakeRecord("bootstrap-node", kNow, &k2_), MakeRecord("bootstrap-node", kNow - 5, &k1_)}, kNow);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].pubkey, k1_.public_key_hex());
}

TEST_F(IdentityTest, AContestedCustomIdGoesToNoKey) {
  IdentityBook book(options_);
  auto out = book.Merge({MakeRecord("bootstrap-node", kNow - 10, &k1_), MakeRecord("bootstrap-node", kNow, &k2_),
                         MakeRecord("other", kNow, &k2_)},
                        kNow);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].node_id, "other");
  EXPECT_EQ(book.pins(), 1u);
}

TEST_F(IdentityTest, UnsignedRecordsCannotTakeOverASignedId) {
  IdentityBook book(options_);
  // In one merge: the signed record wins although it is older.
  auto out = book.Merge({MakeRecord(id1_, kNow - 20, &k1_), MakeRecord(id1_, kNow, nullptr, R"("load":0)")}, kNow);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is_signed());
  // In a later merge without the owner's record: the id stays the owner's.
  EXPECT_TRUE(book.Merge({MakeRecord(id1_, kNow, nullptr)}, kNow).empty());
  EXPECT_TRUE(book.Merge({MakeRecord("bootstrap-node", kNow, &k1_)}, kNow).size() == 1u);
  EXPECT_TRUE(book.Merge({MakeRecord("bootstrap-node", kNow + 1, nullptr)}, kNow).empty());
}

TEST_F(IdentityTest, UnsignedRecordsStillWork) {
  IdentityBook book(options_);
  auto out = book.Merge(
      {MakeRecord("py-a", kNow - 3, nullptr, R"("load":0.1)"), MakeRecord("py-a", kNow - 1, nullptr, R"("load":0.9)"),
       MakeRecord("0123456789abcdef", kNow - 2, nullptr)},
      kNow);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].node_id, "py-a");   // freshest first
  EXPECT_DOUBLE_EQ(out[0].load, 0.9);  // the newest of the id
  EXPECT_EQ(out[1].node_id, "0123456789abcdef");
  EXPECT_EQ(book.pins(), 0u);  // unsigned records bind nothing
}

TEST_F(IdentityTest, ASignedRecordMayClaimAnUnsignedId) {
  // Unsigned records prove nothing, so a key may claim an id only Python records used; from
  // then on the id is that key's.
  IdentityBook book(options_);
  ASSERT_EQ(book.Merge({MakeRecord("py-a", kNow, nullptr)}, kNow).size(), 1u);
  auto out = book.Merge({MakeRecord("py-a", kNow, nullptr), MakeRecord("py-a", kNow - 5, &k2_)}, kNow);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is_signed());
  EXPECT_TRUE(book.Merge({MakeRecord("py-a", kNow + 1, nullptr)}, kNow + 1).empty());
}

TEST_F(IdentityTest, NewestOfTheOwnerWins) {
  IdentityBook book(options_);
  auto out =
      book.Merge({MakeRecord(id1_, kNow - 9, &k1_, R"("load":0.9)"), MakeRecord(id1_, kNow - 1, &k1_, R"("load":0.1)"),
                  MakeRecord(id1_, kNow - 5, &k1_, R"("load":0.5)")},
                 kNow);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].last_seen, kNow - 1);
}

TEST_F(IdentityTest, FutureRecordsAreRefused) {
  IdentityBook book(options_);
  // An owner's record from the far future would otherwise shadow its real ones until then.
  auto out = book.Merge({MakeRecord(id1_, kNow, &k1_), MakeRecord(id1_, kNow + 3600, &k1_, R"("load":0)")}, kNow);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].last_seen, kNow);
  EXPECT_TRUE(book.Merge({MakeRecord("py", kNow + 3600, nullptr)}, kNow).empty());
}

TEST_F(IdentityTest, ReplaysAreRefused) {
  IdentityBook book(options_);
  const dht::Record old = MakeRecord(id1_, kNow - 20, &k1_, R"("load":0)");
  ASSERT_EQ(book.Merge({MakeRecord(id1_, kNow - 10, &k1_)}, kNow).size(), 1u);
  EXPECT_TRUE(book.Merge({old}, kNow).empty());                                      // an authentic but older record
  EXPECT_EQ(book.Merge({old, MakeRecord(id1_, kNow - 10, &k1_)}, kNow).size(), 1u);  // the same one again
  auto out = book.Merge({old, MakeRecord(id1_, kNow, &k1_)}, kNow);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].last_seen, kNow);
}

TEST_F(IdentityTest, BindingsExpire) {
  options_.pin_s = 60;
  IdentityBook book(options_);
  ASSERT_EQ(book.Merge({MakeRecord("bootstrap-node", kNow, &k1_)}, kNow).size(), 1u);
  EXPECT_TRUE(book.Merge({MakeRecord("bootstrap-node", kNow + 59, &k2_)}, kNow + 59).empty());
  // The owner has been silent for pin_s: the id is free, as in DHT storage.
  auto out = book.Merge({MakeRecord("bootstrap-node", kNow + 60, &k2_)}, kNow + 60);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].pubkey, k2_.public_key_hex());
}

TEST_F(IdentityTest, BindingsAreBounded) {
  options_.max_pins = 2;
  IdentityBook book(options_);
  auto out =
      book.Merge({MakeRecord("a", kNow - 100, &k1_), MakeRecord("b", kNow, &k1_), MakeRecord("c", kNow, &k1_)}, kNow);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(book.pins(), 2u);
  // Expired bindings make room.
  options_.pin_s = 50;
  IdentityBook short_book(options_);
  short_book.Merge({MakeRecord("a", kNow - 45, &k1_), MakeRecord("b", kNow, &k1_)}, kNow);
  short_book.Merge({MakeRecord("c", kNow + 10, &k1_)}, kNow + 10);
  EXPECT_EQ(short_book.pins(), 2u);                                                       // b and c
  EXPECT_EQ(short_book.Merge({MakeRecord("a", kNow + 10, &k2_)}, kNow + 10).size(), 1u);  // "a" was forgotten
  EXPECT_TRUE(short_book.Merge({MakeRecord("c", kNow + 10, &k2_)}, kNow + 10).empty());
}

TEST_F(IdentityTest, RequireSignedRefusesUnsignedRecords) {
  options_.require_signed = true;
  IdentityBook book(options_);
  auto out = book.Merge({MakeRecord("py", kNow, nullptr), MakeRecord(id1_, kNow, &k1_)}, kNow);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].node_id, id1_);
}

TEST_F(IdentityTest, BadSignaturesAreRefused) {
  dht::Record good = MakeRecord("bootstrap-node", kNow - 10, &k1_);
  std::string text = MakeRecord("bootstrap-node", kNow, &k1_).json;
  text.replace(text.find("10.0.0.2"), 8, "10.6.6.6");
  IdentityBook book(options_);
  auto out = book.Merge({good, *dht::ParseRecord(text)}, kNow);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], good);
}

}  // namespace
}  // namespace llamanet::protocol
