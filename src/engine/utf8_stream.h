// Turns a stream of byte pieces (llama.cpp token pieces, which may end inside a multi-byte
// character or be invalid outright with random weights) into valid UTF-8 text. Incomplete
// sequences are held back until the next piece; invalid bytes become U+FFFD. Not thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace llamanet::engine {

class Utf8Stream {
 public:
  // Appends bytes and returns the complete, valid UTF-8 that they finish.
  std::string Push(std::string_view bytes);
  // Ends the stream: a held-back incomplete sequence becomes U+FFFD.
  std::string Finish();

 private:
  std::string pending_;
};

// True when s is entirely valid UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace llamanet::engine
