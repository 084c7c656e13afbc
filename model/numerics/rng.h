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

  // The generator's whole state (xoshiro words and the normal() cache), to save it and to put it
  // back: a generator set to a saved state draws what the saved one would have drawn.
  struct State {
    uint64_t s[4] = {0, 0, 0, 0};
    double spare = 0.0;
    bool has_spare = false;
  };
  State state() const { return {{s_[0], s_[1], s_[2], s_[3]}, spare_, has_spare_}; }
  void set_state(const State& st) {
    for (int i = 0; i < 4; ++i) s_[i] = st.s[i];
    spare_ = st.spare;
    has_spare_ = st.has_spare;
  }

 private:
  uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// Sixteen independent xoshiro256** generators ("lanes"), each turning one 64-bit draw into a pair
// of independent standard normals by the Box-Muller transform: the hot loop of program_verify,
// where each of 16 pulse channels stepped side by side takes its pair (pulse, read) from its own
// lane.
//   u1 = (high 32 bits + 1) / 2^32 in (0, 1], u2 = low 32 bits / 2^32 in [0, 1),
//   r = sqrt(-2 ln u1), z0 = r cos(2 pi u2), z1 = r sin(2 pi u2),
// as fill_normal does, so |z| <= sqrt(2 ln 2^32) = 6.66 (tails beyond: ~3e-11 per draw). u1 is
// split exactly in 32-bit integers into m 2^(e - 32) (m in [sqrt(1/2), sqrt(2)), m - 1 = an
// integer / 2^e); the rest is float, with this library's own series, not libm's:
// ln m = 2 atanh((m - 1)/(m + 1)) to s^11 (truncation < 6e-11 relative), sin and cos by quadrant
// and Taylor to degree 9 and 10 on |a| <= pi/4 (< 2e-9). So the scalar path and the AVX-512 path
// (when the CPU has it: 16 lanes per register) give the same bits, on every machine. About 0.6 ns
// per normal with AVX-512 on the development VM, a third of fill_normal_fast's ziggurat (1.9 ns;
// its table lookups do not vectorize well).
class LaneNormals {
 public:
  static constexpr int kLanes = 16;
  // Lane l's state: four splitmix64 steps from seed + (l + 1) * 0x9E3779B97F4A7C15 (the
  // splitmix64 increment).
  explicit LaneNormals(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);

  // Lane `lane`'s next pair.
  void pair(int lane, float& z0, float& z1);
  // Every lane's next pair: z0[l], z1[l].
  void step(float z0[kLanes], float z1[kLanes]);
  // n normals, lanes stepping together: step s writes its z0 to out[32 s + l] and its z1 to
  // out[32 s + 16 + l]. The last step's normals beyond n are drawn and dropped.
  void fill(float* out, long n);

  // The state, word-major (s[word][lane]): the SIMD path works on it in place.
  alignas(64) uint64_t s[4][kLanes];
};

namespace detail {
// Box-Muller of one 64-bit draw, as LaneNormals documents (the scalar path).
void box_muller(uint64_t bits, float& z0, float& z1);
// Whether the lane loops (LaneNormals, program_verify) take their AVX-512 path: the CPU has
// AVX-512 F/VL/DQ/CD and the path was not switched off. Tests switch it off to compare the scalar
// path's bits with it; nothing else should.
bool lanes_simd();
void set_lanes_simd_allowed(bool allowed);
}  // namespace detail

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
