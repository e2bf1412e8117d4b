// Generator: the seedable random source behind rand/randn/randint/dropout/init.
//   nabla::manual_seed(42);      // same seed -> same numbers, whatever the thread count
#pragma once
#include <cstdint>

namespace nabla {

/// A 64-bit PCG-style generator (splitmix64 seeding + xoshiro256**); draws are sequential, so
/// results never depend on threading.
class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ULL) { set_seed(seed); }
  void set_seed(uint64_t seed);
  uint64_t seed() const { return seed_; }
  /// Next 64 random bits.
  uint64_t next_u64();
  /// Uniform in [0, 1) with 53 random bits.
  double next_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  /// Uniform in [0, 1) with 24 random bits (exactly representable as float).
  float next_float() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }
  /// Standard normal (Box-Muller, caching the second value).
  double next_normal();
  /// The full state, for checkpoints.
  struct State {
    uint64_t s[4];
    uint64_t seed;
    double cached_normal;
    bool has_cached_normal;
  };
  State state() const;
  void set_state(const State& st);

 private:
  uint64_t s_[4] = {};
  uint64_t seed_ = 0;
  double cached_normal_ = 0;
  bool has_cached_normal_ = false;
};

/// The process-wide default generator.
Generator& default_generator();
/// Seeds the default generator.
void manual_seed(uint64_t seed);

}  // namespace nabla
