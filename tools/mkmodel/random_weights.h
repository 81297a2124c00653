// Seeded random weights that are the same on every platform and compiler: our own PRNG
// (xoshiro256**, seeded through SplitMix64) and our own normal transform built from integer
// sums, because std::normal_distribution and libm's log/cos may differ between standard
// libraries and CPUs, and the same seed must give the same file byte for byte everywhere.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ggml.h"

namespace llamanet::mkmodel {

// xoshiro256** (Blackman and Vigna, 2018). Not thread-safe; one per stream of values.
class Xoshiro256 {
 public:
  // Independent streams of one seed (one per tensor) start from different SplitMix64 states.
  Xoshiro256(uint64_t seed, uint64_t stream);
  uint64_t Next();

 private:
  uint64_t s_[4];
};

// Draws F16 values of mean 0 and standard deviation `stddev`, shaped like a normal
// distribution: each value is the Irwin-Hall sum of the four 16-bit halves of one 64-bit draw,
// centred and scaled (so values stay within +/-3.47 stddev). The sum takes only 262141 integer
// values, so all their F16 encodings are computed once and each weight costs one draw and one
// table lookup: fast enough for a 1.1B-parameter model in seconds, and exact everywhere, since
// each table entry comes from one IEEE-754 multiplication and a round-to-nearest conversion.
class NormalF16Sampler {
 public:
  explicit NormalF16Sampler(float stddev);
  void Fill(Xoshiro256& rng, std::span<ggml_fp16_t> out) const;

 private:
  std::vector<ggml_fp16_t> table_;  // indexed by the sum of the four halves
};

}  // namespace llamanet::mkmodel
