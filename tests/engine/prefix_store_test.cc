// The host store of saved prefixes: longest match, least-recently-used eviction, and entries
// that a longer one covers.
#include "engine/prefix_store.h"

#include <gtest/gtest.h>

namespace llamanet::engine {
namespace {

PrefixEntry Entry(std::vector<llama_token> tokens, size_t state_bytes, uint64_t conversation = 0) {
  PrefixEntry e;
  e.tokens = std::move(tokens);
  e.state.assign(state_bytes, 0);
  e.conversation = conversation;
  return e;
}

size_t Cost(size_t tokens, size_t state) { return state + tokens * sizeof(llama_token); }

TEST(CommonPrefixTest, CountsSharedLeadingTokens) {
  EXPECT_EQ(CommonPrefix({1, 2, 3}, {1, 2, 4}), 2u);
  EXPECT_EQ(CommonPrefix({1, 2, 3}, {1, 2, 3, 4}), 3u);
  EXPECT_EQ(CommonPrefix({}, {1}), 0u);
  EXPECT_EQ(CommonPrefix({5}, {1}), 0u);
}

TEST(PrefixStoreTest, FindsTheLongestSharedPrefix) {
  PrefixStore store(1 << 20);
  ASSERT_TRUE(store.Put(Entry({1, 2, 3}, 100)));
  ASSERT_TRUE(store.Put(Entry({1, 2, 9, 9, 9}, 100)));
  ASSERT_TRUE(store.Put(Entry({7, 7}, 100)));
  std::optional<PrefixStore::Match> m = store.Longest({1, 2, 3, 4});
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->tokens, 3u);
  EXPECT_EQ(m->entry->tokens, (std::vector<llama_token>{1, 2, 3}));
  EXPECT_FALSE(store.Longest({8}).has_value());
}

TEST(PrefixStoreTest, TakeHandsTheEntryOverAndFreesItsBytes) {
  PrefixStore store(1 << 20);
  store.Put(Entry({1, 2, 3}, 100, 42));
  EXPECT_EQ(store.bytes(), Cost(3, 100));
  PrefixEntry e = store.Take(*store.Longest({1, 2}));
  EXPECT_EQ(e.conversation, 42u);
  EXPECT_EQ(e.state.size(), 100u);
  EXPECT_EQ(store.bytes(), 0u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(PrefixStoreTest, EvictsTheLeastRecentlyUsedToStayWithinCapacity) {
  PrefixStore store(3 * Cost(2, 100));
  store.Put(Entry({1, 1}, 100));
  store.Put(Entry({2, 2}, 100));
  store.Put(Entry({3, 3}, 100));
  store.Put(Entry({4, 4}, 100));
  EXPECT_EQ(store.size(), 3u);
  EXPECT_LE(store.bytes(), store.capacity());
  EXPECT_FALSE(store.Longest({1, 1}).has_value());
  EXPECT_TRUE(store.Longest({2, 2}).has_value());
  EXPECT_TRUE(store.Longest({4, 4}).has_value());
}

TEST(PrefixStoreTest, ALongerEntryReplacesTheOnesItCovers) {
  PrefixStore store(1 << 20);
  store.Put(Entry({1, 2}, 100));
  store.Put(Entry({1, 2, 3}, 100));
  store.Put(Entry({1, 5}, 100));  // shares a token, but is not covered
  store.Put(Entry({1, 2, 3, 4}, 100));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.bytes(), Cost(4, 100) + Cost(2, 100));
}

TEST(PrefixStoreTest, RefusesAnEntryLargerThanItsCapacity) {
  PrefixStore store(1000);
  store.Put(Entry({1}, 10));
  EXPECT_FALSE(store.Put(Entry({2}, 2000)));
  EXPECT_EQ(store.size(), 1u);
  PrefixStore off(0);
  EXPECT_FALSE(off.Put(Entry({1}, 1)));
}

}  // namespace
}  // namespace llamanet::engine
