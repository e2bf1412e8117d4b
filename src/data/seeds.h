// Internal: seeds for data shuffling, derived so that (seed, epoch) pairs give
// unrelated streams.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "nabla/generator.h"

namespace nabla::data::detail {

/// splitmix64's finaliser: a bijective 64-bit mix.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A seed for pass `epoch` of a stream seeded with `seed` (seed + epoch would
/// overlap the generator's own splitmix sequence across neighbouring seeds).
inline uint64_t derive_seed(uint64_t seed, uint64_t epoch) {
  return mix64(mix64(seed + 0x9e3779b97f4a7c15ULL) ^ (epoch * 0xd1b54a32d192ed03ULL + 0x2545f4914f6cdd1dULL));
}

/// Uniform integer in [0, n) without modulo bias (rejection sampling).
inline uint64_t uniform_below(Generator& g, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
  for (;;) {
    uint64_t r = g.next_u64();
    if (r >= threshold) return r % n;
  }
}

/// In-place Fisher-Yates shuffle.
inline void shuffle(std::vector<int64_t>& v, Generator& g) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_below(g, i)]);
}

}  // namespace nabla::data::detail
