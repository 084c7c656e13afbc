#include "numerics/rng.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "numerics/lane_simd.h"

namespace aimc::num {

namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Ziggurat tables for the half-normal density f(x) = exp(-x^2/2) (unnormalized), 128 layers of
// equal area v. Layer i >= 1 is the box [0, x[i]] x [f(x[i]), f(x[i+1])]; layer 0 is the base
// box [0, r] x [0, f(r)] plus the tail beyond r, given the equivalent width x[0] = v / f(r).
// r and v are the published constants for 128 layers; x[128] = 0 closes the top.
// A draw is a signed 32-bit integer j and a layer i: x = j * w[i] with w[i] = x[i] / 2^31, and
// |j| < k[i] = 2^31 x[i+1] / x[i] means x lies in the part of the layer wholly under the curve.
struct ZigguratTables {
  static constexpr int kLayers = 128;
  static constexpr double kR = 3.442619855899;
  static constexpr double kV = 9.91256303526217e-3;
  double x[kLayers + 1];
  double f[kLayers + 1];
  double w[kLayers];
  uint32_t k[kLayers];
  // Squeeze of the wedge test y < exp(-x^2/2) of layer i, valid for |x| >= sq_from[i] (the
  // layer's inner edge x[i+1]; +inf where the layer straddles the inflection at 1): lower and
  // upper lines lo(x) = lo0 + lo1 |x| <= exp(-x^2/2) <= hi(x) = hi0 + hi1 |x|, the chord
  // between the layer's corners and the tangent at its middle (which is which follows from the
  // curve's convexity, x > 1, or concavity, x < 1), each moved out by kSqueezeMargin. A y below
  // lo is accepted and one above hi rejected without the exp: the margin is far above the
  // rounding of the lines and of std::exp (< 1e-15 relative), so every decision is the exp's.
  static constexpr double kSqueezeMargin = 1e-13;
  double sq_from[kLayers], lo0[kLayers], lo1[kLayers], hi0[kLayers], hi1[kLayers];
  ZigguratTables() {
    const auto dens = [](double t) { return std::exp(-0.5 * t * t); };
    x[0] = kV / dens(kR);
    x[1] = kR;
    for (int i = 1; i < kLayers - 1; ++i) x[i + 1] = std::sqrt(-2.0 * std::log(kV / x[i] + dens(x[i])));
    x[kLayers] = 0.0;
    for (int i = 0; i <= kLayers; ++i) f[i] = dens(x[i]);
    for (int i = 0; i < kLayers; ++i) {
      w[i] = x[i] * 0x1.0p-31;
      k[i] = static_cast<uint32_t>(x[i + 1] / x[i] * 0x1.0p31);
    }
    for (int i = 0; i < kLayers; ++i) {
      const double a = x[i + 1], b = x[i];  // inner and outer edge; f[i + 1] > f[i]
      const double chord1 = (f[i] - f[i + 1]) / (b - a), chord0 = f[i + 1] - chord1 * a;
      const double mid = 0.5 * (a + b), f_mid = dens(mid);
      const double tan1 = -mid * f_mid, tan0 = f_mid - tan1 * mid;
      const bool convex = a > 1.0, concave = b < 1.0;
      sq_from[i] = (i >= 1 && (convex || concave)) ? a : std::numeric_limits<double>::infinity();
      lo0[i] = (convex ? tan0 : chord0) - kSqueezeMargin;
      lo1[i] = convex ? tan1 : chord1;
      hi0[i] = (convex ? chord0 : tan0) + kSqueezeMargin;
      hi1[i] = convex ? chord1 : tan1;
    }
  }
};

const ZigguratTables& ziggurat() {
  static const ZigguratTables tables;
  return tables;
}

inline double unit_open0(uint64_t bits) {  // (0, 1], for logarithms
  return (static_cast<double>(bits >> 11) + 1.0) * 0x1.0p-53;
}

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

namespace {

// One xoshiro256** step on a state held in registers (the hot loops copy s_ in and out).
using lanes::xoshiro_step;

}  // namespace

uint64_t Rng::next() { return xoshiro_step(s_); }

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

namespace {

// The rare part of a ziggurat draw (~1% of them), out of line so that the common path keeps the
// generator state and the loop in registers: `bits` fell outside the part of its layer wholly
// under the curve. Finishes the draw (the tail, the wedge test, and on rejection new attempts,
// common path included) exactly as the loop would, and returns the normal.
__attribute__((noinline)) float ziggurat_rare(uint64_t (&s)[4], uint64_t bits,
                                              const ZigguratTables& z) {
  const auto unit = [&s] { return static_cast<double>(xoshiro_step(s) >> 11) * 0x1.0p-53; };
  for (;;) {
    const int layer = static_cast<int>(bits & (ZigguratTables::kLayers - 1));  // bits 0..6
    const int32_t j = static_cast<int32_t>(bits >> 32);                       // bits 32..63
    const uint32_t mag = j < 0 ? 0u - static_cast<uint32_t>(j) : static_cast<uint32_t>(j);
    if (mag < z.k[layer]) return static_cast<float>(j * z.w[layer]);  // wholly under the curve
    if (layer == 0) {
      // The tail beyond r (Marsaglia's exponential rejection): r + a, a ~ Exp(r), accepted
      // with probability exp(-a^2/2).
      double a, b;
      do {
        a = -std::log(unit_open0(xoshiro_step(s))) / ZigguratTables::kR;
        b = -std::log(unit_open0(xoshiro_step(s)));
      } while (2.0 * b < a * a);
      return static_cast<float>(j < 0 ? -(ZigguratTables::kR + a) : ZigguratTables::kR + a);
    }
    // The wedge: accept x under the curve, else start over (the squeeze decides most draws).
    const double x = j * z.w[layer];
    const double y = z.f[layer] + unit() * (z.f[layer + 1] - z.f[layer]);
    const double ax = std::abs(x);
    bool under;
    if (ax >= z.sq_from[layer] && y < z.lo0[layer] + z.lo1[layer] * ax)
      under = true;
    else if (ax >= z.sq_from[layer] && y > z.hi0[layer] + z.hi1[layer] * ax)
      under = false;
    else
      under = y < std::exp(-0.5 * x * x);
    if (under) return static_cast<float>(x);
    bits = xoshiro_step(s);
  }
}

}  // namespace

void Rng::fill_normal_fast(float* out, size_t n) {
  const ZigguratTables& z = ziggurat();
  uint64_t s[4] = {s_[0], s_[1], s_[2], s_[3]};
  for (size_t i = 0; i < n; ++i) {
    const uint64_t bits = xoshiro_step(s);
    const int layer = static_cast<int>(bits & (ZigguratTables::kLayers - 1));  // bits 0..6
    const int32_t j = static_cast<int32_t>(bits >> 32);                       // bits 32..63
    const uint32_t mag = j < 0 ? 0u - static_cast<uint32_t>(j) : static_cast<uint32_t>(j);
    if (mag < z.k[layer]) {  // wholly under the curve: ~99% of draws
      out[i] = static_cast<float>(j * z.w[layer]);
      continue;
    }
    // A copy, so that the state's address does not escape (it would then live in memory).
    uint64_t t[4] = {s[0], s[1], s[2], s[3]};
    out[i] = ziggurat_rare(t, bits, z);
    for (int k = 0; k < 4; ++k) s[k] = t[k];
  }
  for (int i = 0; i < 4; ++i) s_[i] = s[i];
}

namespace detail {

void box_muller(uint64_t bits, float& z0, float& z1) { lanes::box_muller(bits, z0, z1); }

namespace {
std::atomic<bool> g_lanes_simd_allowed{true};
}  // namespace

bool lanes_simd() {
#if defined(AIMC_LANES_AVX512)
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd") &&
                          __builtin_cpu_supports("avx2");
  return has && g_lanes_simd_allowed.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

void set_lanes_simd_allowed(bool allowed) { g_lanes_simd_allowed.store(allowed); }

}  // namespace detail

void LaneNormals::reseed(uint64_t seed) {
  for (int l = 0; l < kLanes; ++l) {
    uint64_t st = seed + static_cast<uint64_t>(l + 1) * 0x9E3779B97F4A7C15ull;
    for (int w = 0; w < 4; ++w) s[w][l] = splitmix64(st);
    if ((s[0][l] | s[1][l] | s[2][l] | s[3][l]) == 0) s[0][l] = 1;
  }
}

void LaneNormals::pair(int lane, float& z0, float& z1) {
  uint64_t st[4] = {s[0][lane], s[1][lane], s[2][lane], s[3][lane]};
  lanes::box_muller(lanes::xoshiro_step(st), z0, z1);
  for (int w = 0; w < 4; ++w) s[w][lane] = st[w];
}

#if defined(AIMC_LANES_AVX512)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12's avx512fintrin.h (_mm512_undefined)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
AIMC_AVX512_TARGET void lanes_avx512::fill_steps(float* out, long steps, LaneNormals& g) {
  State st = load(g);
  for (long i = 0; i < steps; ++i) {
    __m512i hi, lo;
    xoshiro(st, hi, lo);
    __m512 z0, z1;
    box_muller(hi, lo, z0, z1);
    _mm512_storeu_ps(out + 32 * i, z0);
    _mm512_storeu_ps(out + 32 * i + 16, z1);
  }
  store(g, st);
}
#pragma GCC diagnostic pop
#endif

void LaneNormals::step(float z0[kLanes], float z1[kLanes]) {
#if defined(AIMC_LANES_AVX512)
  if (detail::lanes_simd()) {
    alignas(64) float out[2 * kLanes];
    lanes_avx512::fill_steps(out, 1, *this);
    for (int l = 0; l < kLanes; ++l) {
      z0[l] = out[l];
      z1[l] = out[kLanes + l];
    }
    return;
  }
#endif
  for (int l = 0; l < kLanes; ++l) pair(l, z0[l], z1[l]);
}

void LaneNormals::fill(float* out, long n) {
  constexpr long kStep = 2 * kLanes;
  long i = 0;
#if defined(AIMC_LANES_AVX512)
  if (detail::lanes_simd()) {
    lanes_avx512::fill_steps(out, n / kStep, *this);
    i = n / kStep * kStep;
  }
#endif
  for (; i < n; i += kStep) {
    float z[kStep];
    step(z, z + kLanes);
    for (long k = i; k < std::min(n, i + kStep); ++k) out[k] = z[k - i];
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
