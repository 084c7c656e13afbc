// Internal to aimc_numerics: the 16-lane loops' shared pieces. The Box-Muller transform of
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
constexpr uint32_t kSqrt2Q31 = 0xB504F333u;  // floor(sqrt(2) 2^31)
// sin a = a + a^3 (-1/3! + a^2 (1/5! + a^2 (-1/7! + a^2 / 9!))),
// cos a = 1 + a^2 (-1/2! + a^2 (1/4! + a^2 (-1/6! + a^2 (1/8! - a^2 / 10!)))).
constexpr float kS3 = float(-1.0 / 6), kS5 = float(1.0 / 120), kS7 = float(-1.0 / 5040),
                kS9 = float(1.0 / 362880);
constexpr float kC2 = -0.5f, kC4 = float(1.0 / 24), kC6 = float(-1.0 / 720),
                kC8 = float(1.0 / 40320), kC10 = float(-1.0 / 3628800);
// 2 pi / 2^32: the angle of one unit of the low 32 bits.
constexpr float kAngleUnit = float(6.283185307179586476925286766559 / 4294967296.0);

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

// The scalar reference of LaneNormals' transform (its steps are what the SIMD version does). All
// in 32-bit integers and float.
inline void box_muller(uint64_t bits, float& z0, float& z1) {
  // Radius: v = high + 1 in [1, 2^32], u1 = v / 2^32 = m 2^(e - 32) with m in [sqrt(1/2),
  // sqrt(2)): e, and m - 1 = num / 2^e, exactly in 32-bit integers (v = 2^32 wraps to 0: e = 32,
  // num = 0); n = floor(log2 v), and m > sqrt(2) moves to m / 2 (e = n + 1, num < 0).
  const uint32_t v = static_cast<uint32_t>(bits >> 32) + 1u;
  int e = 32;
  int32_t num = 0;
  if (v != 0) {
    const int n = 31 - __builtin_clz(v);
    e = n + (v > (kSqrt2Q31 >> (31 - n)) ? 1 : 0);
    num = static_cast<int32_t>(v - (e == 32 ? 0u : (1u << e)));
  }
  const uint32_t scale_bits = static_cast<uint32_t>(127 - e) << 23;  // 2^-e
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  // The rest in float: m - 1 rounded once, so that ln u1 keeps its relative precision near u1 = 1.
  const float mm1 = static_cast<float>(num) * scale;
  const float s = mm1 / (2.0f + mm1);
  const float s2 = s * s;
  const float series = ((((kAt11 * s2 + kAt9) * s2 + kAt7) * s2 + kAt5) * s2 + kAt3) * s2 + 1.0f;
  const float ln_u1 = (static_cast<float>(e) - 32.0f) * kLn2 + 2.0f * s * series;
  const float r = std::sqrt(-2.0f * ln_u1);
  // Angle: the quadrant q = round(4 u2) (mod 4) and a = 2 pi u2 - q pi/2 in [-pi/4, pi/4), in
  // 32-bit arithmetic (lo + 2^29 wraps for the last eighth: q4 = 0, f = lo - 2^32).
  const uint32_t lo = static_cast<uint32_t>(bits);
  const uint32_t q4 = (lo + (1u << 29)) >> 30;
  const int32_t f = static_cast<int32_t>(lo - (q4 << 30));
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

#define AIMC_AVX512_TARGET \
  __attribute__((target("avx512f,avx512vl,avx512dq,avx512cd,avx2,bmi2")))
// Helpers, inlined into AVX-512 entry points (AIMC_AVX512_TARGET functions) only.
#define AIMC_AVX512_FN AIMC_AVX512_TARGET __attribute__((always_inline)) inline

namespace aimc::num::lanes_avx512 {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

// xoshiro256** on every lane of a state held in registers (word-major; lanes 0-7 in a, 8-15 in b).
struct State {
  __m512i s0a, s1a, s2a, s3a, s0b, s1b, s2b, s3b;
};

AIMC_AVX512_FN State load(const LaneNormals& g) {
  return {_mm512_load_si512(g.s[0]),     _mm512_load_si512(g.s[1]),
          _mm512_load_si512(g.s[2]),     _mm512_load_si512(g.s[3]),
          _mm512_load_si512(g.s[0] + 8), _mm512_load_si512(g.s[1] + 8),
          _mm512_load_si512(g.s[2] + 8), _mm512_load_si512(g.s[3] + 8)};
}

AIMC_AVX512_FN void store(LaneNormals& g, const State& st) {
  _mm512_store_si512(g.s[0], st.s0a);
  _mm512_store_si512(g.s[1], st.s1a);
  _mm512_store_si512(g.s[2], st.s2a);
  _mm512_store_si512(g.s[3], st.s3a);
  _mm512_store_si512(g.s[0] + 8, st.s0b);
  _mm512_store_si512(g.s[1] + 8, st.s1b);
  _mm512_store_si512(g.s[2] + 8, st.s2b);
  _mm512_store_si512(g.s[3] + 8, st.s3b);
}

AIMC_AVX512_FN __m512i xoshiro8(__m512i& s0, __m512i& s1, __m512i& s2, __m512i& s3) {
  const __m512i x = _mm512_rol_epi64(_mm512_add_epi64(_mm512_slli_epi64(s1, 2), s1), 7);
  const __m512i out = _mm512_add_epi64(_mm512_slli_epi64(x, 3), x);  // rotl(s1 * 5, 7) * 9
  const __m512i t = _mm512_slli_epi64(s1, 17);
  s2 = _mm512_xor_si512(s2, s0);
  s3 = _mm512_xor_si512(s3, s1);
  s1 = _mm512_xor_si512(s1, s2);
  s0 = _mm512_xor_si512(s0, s3);
  s2 = _mm512_xor_si512(s2, t);
  s3 = _mm512_rol_epi64(s3, 45);
  return out;
}

// One step of the 16 lanes: the high and the low 32 bits of each lane's draw.
AIMC_AVX512_FN void xoshiro(State& st, __m512i& hi, __m512i& lo) {
  const __m512i a = xoshiro8(st.s0a, st.s1a, st.s2a, st.s3a);
  const __m512i b = xoshiro8(st.s0b, st.s1b, st.s2b, st.s3b);
  hi = _mm512_permutex2var_epi32(
      a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
  lo = _mm512_permutex2var_epi32(
      a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
}

// lanes::box_muller on 16 draws (their high and low halves): z0 and z1 of every lane.
AIMC_AVX512_FN void box_muller(__m512i hi, __m512i lo, __m512& z0, __m512& z1) {
  using namespace lanes;
  const __m512i v = _mm512_add_epi32(hi, _mm512_set1_epi32(1));
  const __mmask16 wrapped = _mm512_cmpeq_epi32_mask(v, _mm512_setzero_si512());
  const __m512i n = _mm512_sub_epi32(_mm512_set1_epi32(31), _mm512_lzcnt_epi32(v));
  const __m512i threshold = _mm512_srlv_epi32(_mm512_set1_epi32(static_cast<int>(kSqrt2Q31)),
                                              _mm512_sub_epi32(_mm512_set1_epi32(31), n));
  const __mmask16 big = _mm512_cmpgt_epu32_mask(v, threshold);
  __m512i e = _mm512_mask_add_epi32(n, big, n, _mm512_set1_epi32(1));
  e = _mm512_mask_mov_epi32(e, wrapped, _mm512_set1_epi32(32));
  const __m512i num = _mm512_sub_epi32(v, _mm512_sllv_epi32(_mm512_set1_epi32(1), e));
  const __m512 scale = _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_sub_epi32(_mm512_set1_epi32(127), e), 23));
  const __m512 mm1 = _mm512_mul_ps(_mm512_cvtepi32_ps(num), scale);
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 s = _mm512_div_ps(mm1, _mm512_add_ps(_mm512_set1_ps(2.0f), mm1));
  const __m512 s2 = _mm512_mul_ps(s, s);
  __m512 series = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(kAt11), s2), _mm512_set1_ps(kAt9));
  series = _mm512_add_ps(_mm512_mul_ps(series, s2), _mm512_set1_ps(kAt7));
  series = _mm512_add_ps(_mm512_mul_ps(series, s2), _mm512_set1_ps(kAt5));
  series = _mm512_add_ps(_mm512_mul_ps(series, s2), _mm512_set1_ps(kAt3));
  series = _mm512_add_ps(_mm512_mul_ps(series, s2), one);
  const __m512 ln_u1 = _mm512_add_ps(
      _mm512_mul_ps(_mm512_sub_ps(_mm512_cvtepi32_ps(e), _mm512_set1_ps(32.0f)),
                    _mm512_set1_ps(kLn2)),
      _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(2.0f), s), series));
  const __m512 r = _mm512_sqrt_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0f), ln_u1));

  const __m512i q4 = _mm512_srli_epi32(_mm512_add_epi32(lo, _mm512_set1_epi32(1 << 29)), 30);
  const __m512i f = _mm512_sub_epi32(lo, _mm512_slli_epi32(q4, 30));
  const __m512i q = _mm512_and_si512(q4, _mm512_set1_epi32(3));
  const __m512 a = _mm512_mul_ps(_mm512_cvtepi32_ps(f), _mm512_set1_ps(kAngleUnit));
  const __m512 a2 = _mm512_mul_ps(a, a);
  __m512 ps = _mm512_add_ps(_mm512_set1_ps(kS7), _mm512_mul_ps(a2, _mm512_set1_ps(kS9)));
  ps = _mm512_add_ps(_mm512_set1_ps(kS5), _mm512_mul_ps(a2, ps));
  ps = _mm512_add_ps(_mm512_set1_ps(kS3), _mm512_mul_ps(a2, ps));
  const __m512 sn = _mm512_add_ps(a, _mm512_mul_ps(_mm512_mul_ps(a, a2), ps));
  __m512 pc = _mm512_add_ps(_mm512_set1_ps(kC8), _mm512_mul_ps(a2, _mm512_set1_ps(kC10)));
  pc = _mm512_add_ps(_mm512_set1_ps(kC6), _mm512_mul_ps(a2, pc));
  pc = _mm512_add_ps(_mm512_set1_ps(kC4), _mm512_mul_ps(a2, pc));
  pc = _mm512_add_ps(_mm512_set1_ps(kC2), _mm512_mul_ps(a2, pc));
  const __m512 cs = _mm512_add_ps(one, _mm512_mul_ps(a2, pc));
  const __mmask16 odd = _mm512_test_epi32_mask(q, _mm512_set1_epi32(1));
  const __m512 c_out = _mm512_mask_blend_ps(odd, cs, sn), s_out = _mm512_mask_blend_ps(odd, sn, cs);
  const __m512i sign_c = _mm512_slli_epi32(
      _mm512_and_si512(_mm512_xor_si512(q, _mm512_srli_epi32(q, 1)), _mm512_set1_epi32(1)), 31);
  const __m512i sign_s = _mm512_slli_epi32(_mm512_srli_epi32(q, 1), 31);
  z0 = _mm512_mul_ps(r, _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(c_out), sign_c)));
  z1 = _mm512_mul_ps(r, _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(s_out), sign_s)));
}

// An entry point (rng.cpp): `steps` steps of every lane, as LaneNormals::fill lays them out.
void fill_steps(float* out, long steps, LaneNormals& g);

#pragma GCC diagnostic pop

}  // namespace aimc::num::lanes_avx512
#endif
