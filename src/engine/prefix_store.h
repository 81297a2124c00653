// Recent prompts' KV states kept in host memory, so that more conversations than slots keep
// their caches: a slot's sequence is saved here before the slot is given to another
// conversation, and restored into a slot when a request continues it. Bounded in bytes; the
// least recently used entry goes first. Not thread-safe: the scheduler thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <vector>

#include "llama.h"

namespace llamanet::engine {

// How many leading tokens `a` and `b` share.
size_t CommonPrefix(const std::vector<llama_token>& a, const std::vector<llama_token>& b);

struct PrefixEntry {
  std::vector<llama_token> tokens;  // what the state holds, position 0 on
  std::vector<uint8_t> state;       // llama_state_seq_get_data of one sequence
  uint64_t conversation = 0;        // the affinity key of the request that made it (0: none)
};

class PrefixStore {
 public:
  explicit PrefixStore(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  struct Match {
    std::list<PrefixEntry>::iterator entry;
    size_t tokens = 0;  // leading tokens shared with the prompt
  };
  // The entry sharing the longest prefix with `prompt`, if any shares a token.
  std::optional<Match> Longest(const std::vector<llama_token>& prompt);
  // Removes the matched entry and hands it over (it moves into a slot).
  PrefixEntry Take(const Match& match);
  // Stores an entry, evicting the least recently used ones until it fits. Entries whose
  // tokens are a prefix of the new entry's are dropped: the new one serves them all. An entry
  // larger than the whole capacity is not kept; returns whether it was.
  bool Put(PrefixEntry entry);

  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const PrefixEntry& e : entries_) fn(e);
  }
  size_t bytes() const { return bytes_; }
  size_t capacity() const { return capacity_; }
  size_t size() const { return entries_.size(); }

 private:
  static size_t Cost(const PrefixEntry& e) { return e.state.size() + e.tokens.size() * sizeof(llama_token); }
  void Erase(std::list<PrefixEntry>::const_iterator it);

  const size_t capacity_;
  size_t bytes_ = 0;
  std::list<PrefixEntry> entries_;  // most recently used first
};

}  // namespace llamanet::engine
