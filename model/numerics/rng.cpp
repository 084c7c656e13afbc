#include "numerics/rng.h"

#include <cmath>

namespace aimc::num {

namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t splitmix64(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ull;  // golden-ratio increment
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV offset basis
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001B3ull;  // FNV prime
  }
  return h;
}

Rng::Rng(uint64_t seed) {
  uint64_t st = seed;
  for (auto& word : s_) word = splitmix64(st);
  // splitmix64 cannot yield four zero words in a row, but keep the all-zero state impossible.
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
}

uint64_t Rng::next() {
  const uint64_t out = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return out;
}

double Rng::uniform() {
  // Top 53 bits as the mantissa of a double in [0, 1).
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // 1 - uniform() is in (0, 1], so the log is finite.
  const double r = std::sqrt(-2.0 * std::log(1.0 - uniform()));
  const double phi = kTwoPi * uniform();
  spare_ = r * std::sin(phi);
  has_spare_ = true;
  return r * std::cos(phi);
}

void Rng::fill_normal(float* out, size_t n) {
  // Box-Muller in pairs. One 64-bit draw gives both uniforms (32 bits each): the smallest radius
  // uniform is 2^-32, so |z| <= sqrt(2 ln 2^32) ~ 6.66, i.e. tails beyond 6.66 sigma are cut
  // (probability ~3e-11 per sample): irrelevant for device noise, and half the generator calls.
  size_t k = 0;
  for (; k + 1 < n; k += 2) {
    const uint64_t x = next();
    const double u1 = (static_cast<double>(x >> 32) + 1.0) * 0x1.0p-32;  // (0, 1]
    const double u2 = static_cast<double>(x & 0xFFFFFFFFull) * 0x1.0p-32;  // [0, 1)
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double phi = kTwoPi * u2;
    out[k] = static_cast<float>(r * std::cos(phi));
    out[k + 1] = static_cast<float>(r * std::sin(phi));
  }
  if (k < n) {
    const uint64_t x = next();
    const double u1 = (static_cast<double>(x >> 32) + 1.0) * 0x1.0p-32;
    const double u2 = static_cast<double>(x & 0xFFFFFFFFull) * 0x1.0p-32;
    out[k] = static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2));
  }
}

RngStreams::RngStreams(uint64_t seed) : seed_(seed) {
  uint64_t st = seed;
  mixed_root_ = splitmix64(st);
}

Rng RngStreams::stream(std::string_view name) const {
  uint64_t st = fnv1a64(name) ^ mixed_root_;
  return Rng(splitmix64(st));
}

}  // namespace aimc::num
