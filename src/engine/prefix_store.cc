#include "engine/prefix_store.h"

#include <algorithm>

namespace llamanet::engine {

size_t CommonPrefix(const std::vector<llama_token>& a, const std::vector<llama_token>& b) {
  size_t n = std::min(a.size(), b.size());
  return static_cast<size_t>(std::mismatch(a.begin(), a.begin() + n, b.begin()).first - a.begin());
}

std::optional<PrefixStore::Match> PrefixStore::Longest(const std::vector<llama_token>& prompt) {
  std::optional<Match> best;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    size_t n = CommonPrefix(it->tokens, prompt);
    if (n > 0 && (!best || n > best->tokens)) best = Match{it, n};
  }
  return best;
}

PrefixEntry PrefixStore::Take(const Match& match) {
  PrefixEntry out = std::move(*match.entry);
  bytes_ -= Cost(out);
  entries_.erase(match.entry);
  return out;
}

bool PrefixStore::Put(PrefixEntry entry) {
  const size_t cost = Cost(entry);
  if (cost > capacity_) return false;
  for (auto it = entries_.cbegin(); it != entries_.cend();) {
    bool covered = it->tokens.size() <= entry.tokens.size() && CommonPrefix(it->tokens, entry.tokens) == it->tokens.size();
    auto next = std::next(it);
    if (covered) Erase(it);
    it = next;
  }
  while (bytes_ + cost > capacity_ && !entries_.empty()) Erase(std::prev(entries_.cend()));
  bytes_ += cost;
  entries_.push_front(std::move(entry));
  return true;
}

void PrefixStore::Erase(std::list<PrefixEntry>::const_iterator it) {
  bytes_ -= Cost(*it);
  entries_.erase(it);
}

}  // namespace llamanet::engine
