// Random numbers for the platform: one fast generator (xoshiro256**) and named streams split from
// one root seed, so that every source of randomness (programming error of tile 3, read noise of
// tile 3, ...) has its own reproducible sequence that does not shift when another stream draws
// more or fewer numbers. Same seed + same stream name = same bits, on every run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace aimc::num {

// One step of splitmix64: advances `state` and returns a well-mixed 64-bit value. Used to expand
// a single 64-bit seed into generator state, and to mix stream hashes.
uint64_t splitmix64(uint64_t& state);

// 64-bit FNV-1a hash of a byte string (stream names).
uint64_t fnv1a64(std::string_view bytes);

// xoshiro256** (Blackman & Vigna's design, implemented here from the published recurrence).
// Period 2^256 - 1; not cryptographic. Not thread-safe: one Rng per user.
class Rng {
 public:
  // The 256-bit state is filled from `seed` with splitmix64, so any seed (0 included) is fine.
  explicit Rng(uint64_t seed = 0);

  uint64_t next();

  // Uniform in [0, 1), 53 random bits.
  double uniform();

  // Standard normal N(0, 1) (Box-Muller; the second value of each pair is kept for the next call).
  double normal();

  // n standard normals into out[0..n). Does not touch the value cached by normal(), so the
  // sequence of a stream depends only on the calls made on it.
  void fill_normal(float* out, size_t n);

  // n standard normals into out[0..n) by the ziggurat method (Marsaglia & Tsang, 2000; 128
  // layers, one 64-bit draw per attempt, the layer and the abscissa from disjoint bits). Exact in
  // distribution, tails included, and several times faster than fill_normal (no log or sincos
  // on ~99% of the draws): for hot loops that consume millions of normals (program-and-verify).
  // A different sequence from fill_normal; it too leaves the normal() cache alone.
  void fill_normal_fast(float* out, size_t n);

 private:
  uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// Named streams from one root seed. The stream seed is splitmix64 of (FNV-1a(name) xor a
// splitmix64 expansion of the root seed), so different names give unrelated generators and the
// same (seed, name) always gives the same sequence.
// Names used by the platform: "prog/tile<N>" (programming error), "read/tile<N>" (read noise).
class RngStreams {
 public:
  explicit RngStreams(uint64_t seed);
  Rng stream(std::string_view name) const;
  uint64_t seed() const { return seed_; }

 private:
  uint64_t seed_;
  uint64_t mixed_root_;
};

}  // namespace aimc::num
