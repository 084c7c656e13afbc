// Internal to aimc_numerics: the eight-lane loops' shared pieces. The Box-Muller transform of
// LaneNormals (scalar, and AVX-512 when the CPU has it) and the xoshiro256** step of all lanes.
// The AVX-512 functions are compiled for AVX-512 alone (the build flags stay x86-64-v2) and taken
// at run time when detail::lanes_simd() says so. They do, per lane, the same integer and IEEE
// operations in the same order as the scalar ones (no FMA: the library is built with
// -ffp-contract=off; sqrt and division are correctly rounded everywhere), so both give the same
// bits.
#pragma once

#include <cstdint>
#include <cstring>

#include "numerics/rng.h"

namespace aimc::num::lanes {

// ln m = 2 atanh(s), s = (m - 1) / (m + 1): 2 s (1 + s^2/3 + s^4/5 + ... + s^10/11); the
// coefficients are 1 / (2k + 1). In float: the result is a float normal.
constexpr float kAt3 = float(1.0 / 3), kAt5 = float(1.0 / 5), kAt7 = float(1.0 / 7),
                kAt9 = float(1.0 / 9), kAt11 = float(1.0 / 11);
constexpr float kLn2 = float(0.69314718055994530942);
constexpr double kSqrt2 = 1.41421356237309504880;
// sin a = a + a^3 (-1/3! + a^2 (1/5! + a^2 (-1/7! + a^2 / 9!))),
// cos a = 1 + a^2 (-1/2! + a^2 (1/4! + a^2 (-1/6! + a^2 (1/8! - a^2 / 10!)))).
constexpr float kS3 = float(-1.0 / 6), kS5 = float(1.0 / 120), kS7 = float(-1.0 / 5040),
                kS9 = float(1.0 / 362880);
constexpr float kC2 = -0.5f, kC4 = float(1.0 / 24), kC6 = float(-1.0 / 720),
                kC8 = float(1.0 / 40320), kC10 = float(-1.0 / 3628800);
// 2 pi / 2^32: the angle of one unit of the low 32 bits.
constexpr float kAngleUnit = float(6.283185307179586476925286766559 / 4294967296.0);
constexpr uint64_t kMantissa = 0x000FFFFFFFFFFFFFull, kOneBits = 0x3FF0000000000000ull;

// One xoshiro256** step (Blackman & Vigna's recurrence) of a state held as four words.
inline uint64_t xoshiro_step(uint64_t (&s)[4]) {
  const auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t out = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

// The scalar reference of LaneNormals' transform (its steps are what the SIMD version does).
inline void box_muller(uint64_t bits, float& z0, float& z1) {
  // Radius: v = high + 1 in [1, 2^32] (exact), u1 = v / 2^32; v = m 2^e with m in [1, 2), moved to
  // [sqrt(1/2), sqrt(2)) (exact); ln u1 = (e - 32) ln 2 + ln m.
  const double v = static_cast<double>((bits >> 32) + 1);
  uint64_t vb;
  std::memcpy(&vb, &v, sizeof vb);
  double e = static_cast<double>(static_cast<int64_t>(vb >> 52) - 1023);
  const uint64_t mb = (vb & kMantissa) | kOneBits;
  double m;
  std::memcpy(&m, &mb, sizeof m);
  if (m > kSqrt2) {
    m = m * 0.5;
    e = e + 1.0;
  }
  // The rest in float, from m - 1 and m + 1 taken in double (m - 1 exactly), so that ln u1 keeps
  // its relative precision near u1 = 1 too.
  const float ef = static_cast<float>(e);
  const float s = static_cast<float>(m - 1.0) / static_cast<float>(m + 1.0);
  const float s2 = s * s;
  const float series = ((((kAt11 * s2 + kAt9) * s2 + kAt7) * s2 + kAt5) * s2 + kAt3) * s2 + 1.0f;
  const float ln_u1 = (ef - 32.0f) * kLn2 + 2.0f * s * series;
  const float r = std::sqrt(-2.0f * ln_u1);
  // Angle: the quadrant q = round(4 u2) (mod 4) and a = 2 pi u2 - q pi/2 in [-pi/4, pi/4).
  const uint32_t lo = static_cast<uint32_t>(bits);
  const uint32_t q4 = static_cast<uint32_t>((static_cast<uint64_t>(lo) + (1u << 29)) >> 30);
  const int32_t f = static_cast<int32_t>(static_cast<int64_t>(lo) - (static_cast<int64_t>(q4) << 30));
  const float a = static_cast<float>(f) * kAngleUnit;
  const float a2 = a * a;
  const float sn = a + a * a2 * (kS3 + a2 * (kS5 + a2 * (kS7 + a2 * kS9)));
  const float cs = 1.0f + a2 * (kC2 + a2 * (kC4 + a2 * (kC6 + a2 * (kC8 + a2 * kC10))));
  // (cos, sin) of q pi/2 + a: q = 0 (c, s), 1 (-s, c), 2 (-c, -s), 3 (s, -c).
  const uint32_t q = q4 & 3u;
  const float c_out = (q & 1u) ? sn : cs, s_out = (q & 1u) ? cs : sn;
  const bool neg_c = ((q ^ (q >> 1)) & 1u) != 0, neg_s = (q >> 1) != 0;
  z0 = r * (neg_c ? -c_out : c_out);
  z1 = r * (neg_s ? -s_out : s_out);
}

}  // namespace aimc::num::lanes

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AIMC_LANES_AVX512 1
#include <immintrin.h>

#define AIMC_AVX512_TARGET __attribute__((target("avx512f,avx512vl,avx512dq,avx2,bmi2")))
// Helpers, inlined into AVX-512 entry points (AIMC_AVX512_TARGET functions) only.
#define AIMC_AVX512_FN AIMC_AVX512_TARGET __attribute__((always_inline)) inline

namespace aimc::num::lanes_avx512 {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

// xoshiro256** on every lane of a state held in four registers (word-major).
struct State {
  __m512i s0, s1, s2, s3;
};

AIMC_AVX512_FN State load(const LaneNormals& g) {
  return {_mm512_load_si512(g.s[0]), _mm512_load_si512(g.s[1]), _mm512_load_si512(g.s[2]),
          _mm512_load_si512(g.s[3])};
}

AIMC_AVX512_FN void store(LaneNormals& g, const State& st) {
  _mm512_store_si512(g.s[0], st.s0);
  _mm512_store_si512(g.s[1], st.s1);
  _mm512_store_si512(g.s[2], st.s2);
  _mm512_store_si512(g.s[3], st.s3);
}

AIMC_AVX512_FN __m512i xoshiro(State& st) {
  const __m512i x = _mm512_rol_epi64(_mm512_add_epi64(_mm512_slli_epi64(st.s1, 2), st.s1), 7);
  const __m512i out = _mm512_add_epi64(_mm512_slli_epi64(x, 3), x);  // rotl(s1 * 5, 7) * 9
  const __m512i t = _mm512_slli_epi64(st.s1, 17);
  st.s2 = _mm512_xor_si512(st.s2, st.s0);
  st.s3 = _mm512_xor_si512(st.s3, st.s1);
  st.s1 = _mm512_xor_si512(st.s1, st.s2);
  st.s0 = _mm512_xor_si512(st.s0, st.s3);
  st.s2 = _mm512_xor_si512(st.s2, t);
  st.s3 = _mm512_rol_epi64(st.s3, 45);
  return out;
}

// lanes::box_muller on eight draws: z0 and z1 of every lane (eight floats each).
AIMC_AVX512_FN void box_muller(__m512i bits, __m256& z0, __m256& z1) {
  using namespace lanes;
  const __m512d v = _mm512_cvtepu64_pd(_mm512_add_epi64(_mm512_srli_epi64(bits, 32),
                                                        _mm512_set1_epi64(1)));  // exact
  const __m512i vb = _mm512_castpd_si512(v);
  __m512d e = _mm512_cvtepi64_pd(
      _mm512_sub_epi64(_mm512_srli_epi64(vb, 52), _mm512_set1_epi64(1023)));
  __m512d m = _mm512_castsi512_pd(_mm512_or_si512(
      _mm512_and_si512(vb, _mm512_set1_epi64(static_cast<long long>(kMantissa))),
      _mm512_set1_epi64(static_cast<long long>(kOneBits))));
  const __mmask8 big = _mm512_cmp_pd_mask(m, _mm512_set1_pd(kSqrt2), _CMP_GT_OQ);
  m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
  e = _mm512_mask_add_pd(e, big, e, _mm512_set1_pd(1.0));
  const __m256 ef = _mm512_cvtpd_ps(e);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m512d one_d = _mm512_set1_pd(1.0);
  const __m256 s = _mm256_div_ps(_mm512_cvtpd_ps(_mm512_sub_pd(m, one_d)),
                                 _mm512_cvtpd_ps(_mm512_add_pd(m, one_d)));
  const __m256 s2 = _mm256_mul_ps(s, s);
  __m256 series = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(kAt11), s2), _mm256_set1_ps(kAt9));
  series = _mm256_add_ps(_mm256_mul_ps(series, s2), _mm256_set1_ps(kAt7));
  series = _mm256_add_ps(_mm256_mul_ps(series, s2), _mm256_set1_ps(kAt5));
  series = _mm256_add_ps(_mm256_mul_ps(series, s2), _mm256_set1_ps(kAt3));
  series = _mm256_add_ps(_mm256_mul_ps(series, s2), one);
  const __m256 ln_u1 =
      _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(ef, _mm256_set1_ps(32.0f)), _mm256_set1_ps(kLn2)),
                    _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(2.0f), s), series));
  const __m256 r = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), ln_u1));

  const __m512i lo = _mm512_and_si512(bits, _mm512_set1_epi64(0xFFFFFFFFll));
  const __m512i q4 = _mm512_srli_epi64(_mm512_add_epi64(lo, _mm512_set1_epi64(1ll << 29)), 30);
  const __m256i f = _mm512_cvtepi64_epi32(_mm512_sub_epi64(lo, _mm512_slli_epi64(q4, 30)));
  const __m256i q = _mm256_and_si256(_mm512_cvtepi64_epi32(q4), _mm256_set1_epi32(3));
  const __m256 a = _mm256_mul_ps(_mm256_cvtepi32_ps(f), _mm256_set1_ps(kAngleUnit));
  const __m256 a2 = _mm256_mul_ps(a, a);
  __m256 ps = _mm256_add_ps(_mm256_set1_ps(kS7), _mm256_mul_ps(a2, _mm256_set1_ps(kS9)));
  ps = _mm256_add_ps(_mm256_set1_ps(kS5), _mm256_mul_ps(a2, ps));
  ps = _mm256_add_ps(_mm256_set1_ps(kS3), _mm256_mul_ps(a2, ps));
  const __m256 sn = _mm256_add_ps(a, _mm256_mul_ps(_mm256_mul_ps(a, a2), ps));
  __m256 pc = _mm256_add_ps(_mm256_set1_ps(kC8), _mm256_mul_ps(a2, _mm256_set1_ps(kC10)));
  pc = _mm256_add_ps(_mm256_set1_ps(kC6), _mm256_mul_ps(a2, pc));
  pc = _mm256_add_ps(_mm256_set1_ps(kC4), _mm256_mul_ps(a2, pc));
  pc = _mm256_add_ps(_mm256_set1_ps(kC2), _mm256_mul_ps(a2, pc));
  const __m256 cs = _mm256_add_ps(_mm256_set1_ps(1.0f), _mm256_mul_ps(a2, pc));
  const __mmask8 odd = _mm256_test_epi32_mask(q, _mm256_set1_epi32(1));
  const __m256 c_out = _mm256_mask_blend_ps(odd, cs, sn), s_out = _mm256_mask_blend_ps(odd, sn, cs);
  const __m256i sign_c = _mm256_slli_epi32(
      _mm256_and_si256(_mm256_xor_si256(q, _mm256_srli_epi32(q, 1)), _mm256_set1_epi32(1)), 31);
  const __m256i sign_s = _mm256_slli_epi32(_mm256_srli_epi32(q, 1), 31);
  z0 = _mm256_mul_ps(r, _mm256_xor_ps(c_out, _mm256_castsi256_ps(sign_c)));
  z1 = _mm256_mul_ps(r, _mm256_xor_ps(s_out, _mm256_castsi256_ps(sign_s)));
}

// An entry point (rng.cpp): `steps` steps of every lane, as LaneNormals::fill lays them out.
void fill_steps(float* out, long steps, LaneNormals& g);

#pragma GCC diagnostic pop

}  // namespace aimc::num::lanes_avx512
#endif
