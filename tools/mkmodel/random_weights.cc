#include "random_weights.h"

#include <cmath>

namespace llamanet::mkmodel {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

constexpr uint32_t kMaxHalf = 0xFFFF;
constexpr uint32_t kMaxSum = 4 * kMaxHalf;

uint32_t SumOfHalves(uint64_t r) {
  return static_cast<uint32_t>((r & kMaxHalf) + ((r >> 16) & kMaxHalf) + ((r >> 32) & kMaxHalf) + (r >> 48));
}

}  // namespace

Xoshiro256::Xoshiro256(uint64_t seed, uint64_t stream) {
  // Mix the stream into the seed with SplitMix64 itself, so nearby (seed, stream) pairs land
  // far apart; SplitMix64 never yields an all-zero xoshiro state from four draws.
  uint64_t state = seed;
  state = SplitMix64(state) ^ stream;
  for (uint64_t& word : s_) word = SplitMix64(state);
}

uint64_t Xoshiro256::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

NormalF16Sampler::NormalF16Sampler(float stddev) : table_(kMaxSum + 1) {
  // Four uniforms u_i = (x_i + 0.5) / 2^16 sum to a value of mean 2 and variance 4/12, so
  // z = (sum - 2) * sqrt(3) has unit variance. In integers: sum - 2 = (S - 131070) / 2^16
  // with S = x_0 + x_1 + x_2 + x_3. sqrt is correctly rounded by IEEE-754, so `scale` is the
  // same everywhere.
  const float scale = static_cast<float>(stddev * std::sqrt(3.0) / 65536.0);
  constexpr int32_t kCentre = static_cast<int32_t>(kMaxSum / 2);
  for (uint32_t s = 0; s <= kMaxSum; ++s) {
    table_[s] = ggml_fp32_to_fp16(static_cast<float>(static_cast<int32_t>(s) - kCentre) * scale);
  }
}

void NormalF16Sampler::Fill(Xoshiro256& rng, std::span<ggml_fp16_t> out) const {
  for (ggml_fp16_t& v : out) v = table_[SumOfHalves(rng.Next())];
}

}  // namespace llamanet::mkmodel
