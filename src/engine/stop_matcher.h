// Cuts generated text at the first stop string, even when a stop string arrives split over
// several tokens: text that could still become a stop string is held back until it cannot.
// Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llamanet::engine {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Adds text; returns what is now safe to emit. After a match, stopped() is true and
  // everything from the stop string on is dropped.
  std::string Push(std::string_view text);
  // The held-back text, when the generation ends for another reason.
  std::string Finish();
  bool stopped() const { return stopped_; }

 private:
  // Length of the longest suffix of held_ that is a proper prefix of some stop string.
  size_t PartialMatchLength() const;

  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace llamanet::engine
