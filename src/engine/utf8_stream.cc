#include "engine/utf8_stream.h"

namespace llamanet::engine {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the sequence a lead byte starts, or 0 for a byte that cannot lead.
int SequenceLength(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

// Whether byte i (1-based) of a sequence led by `lead` may be `c`: the second byte's range
// depends on the lead to exclude overlongs, surrogates and code points past U+10FFFF.
bool ValidContinuation(unsigned char lead, int i, unsigned char c) {
  if (i == 1) {
    if (lead == 0xE0) return c >= 0xA0 && c <= 0xBF;
    if (lead == 0xED) return c >= 0x80 && c <= 0x9F;
    if (lead == 0xF0) return c >= 0x90 && c <= 0xBF;
    if (lead == 0xF4) return c >= 0x80 && c <= 0x8F;
  }
  return c >= 0x80 && c <= 0xBF;
}

enum class Scan { kComplete, kIncomplete, kInvalid };

// Looks at the sequence starting at s[pos]; on kComplete sets *len.
Scan ScanOne(std::string_view s, size_t pos, int* len) {
  unsigned char lead = static_cast<unsigned char>(s[pos]);
  int n = SequenceLength(lead);
  if (n == 0) return Scan::kInvalid;
  for (int i = 1; i < n; ++i) {
    if (pos + i >= s.size()) return Scan::kIncomplete;
    if (!ValidContinuation(lead, i, static_cast<unsigned char>(s[pos + i]))) return Scan::kInvalid;
  }
  *len = n;
  return Scan::kComplete;
}

}  // namespace

std::string Utf8Stream::Push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  size_t pos = 0;
  while (pos < pending_.size()) {
    int len = 0;
    Scan scan = ScanOne(pending_, pos, &len);
    if (scan == Scan::kIncomplete) break;
    if (scan == Scan::kInvalid) {
      out.append(kReplacement);
      pos += 1;
      continue;
    }
    out.append(pending_, pos, len);
    pos += len;
  }
  pending_.erase(0, pos);
  return out;
}

std::string Utf8Stream::Finish() {
  std::string out = pending_.empty() ? std::string() : std::string(kReplacement);
  pending_.clear();
  return out;
}

bool IsValidUtf8(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    int len = 0;
    if (ScanOne(s, pos, &len) != Scan::kComplete) return false;
    pos += len;
  }
  return true;
}

}  // namespace llamanet::engine
