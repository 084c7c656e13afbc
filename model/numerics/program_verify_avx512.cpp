// The AVX-512 kernel of the program-and-verify machine (program_verify_machine.h): the scalar
// kernel's steps 16 channels per instruction, with the same IEEE operations in the same order, so
// both give the same bits (tests: ProgramVerify.SimdAndScalarNormalsGiveTheSameResult and the
// exact-reference tests). Compiled only where lane_simd.h enables AVX-512 (function-level target
// attributes; the caller checks the CPU at run time).
#include <cstdint>

#include "numerics/program_verify_machine.h"

#if defined(AIMC_LANES_AVX512)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12's avx512fintrin.h (_mm512_undefined)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace aimc::num::pv {
namespace {

// exp_scalar on 16 floats.
AIMC_AVX512_FN __m512 exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(kExpLo)), _mm512_set1_ps(kExpHi));
  const __m512 magic = _mm512_set1_ps(kRoundMagic);
  const __m512 j =
      _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)), magic), magic);
  __m512 r = _mm512_sub_ps(x, _mm512_mul_ps(j, _mm512_set1_ps(kLn2Hi)));
  r = _mm512_sub_ps(r, _mm512_mul_ps(j, _mm512_set1_ps(kLn2Lo)));
  const __m512 r2 = _mm512_mul_ps(r, r);
  const __m512 a = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(kExpP0), r), _mm512_set1_ps(kExpP1));
  const __m512 b = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(kExpP2), r), _mm512_set1_ps(kExpP3));
  const __m512 c = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(kExpP4), r), _mm512_set1_ps(kExpP5));
  const __m512 p = _mm512_add_ps(_mm512_mul_ps(_mm512_add_ps(_mm512_mul_ps(a, r2), b), r2), c);
  const __m512 y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, r2), r), _mm512_set1_ps(1.0f));
  const __m512i scale =
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(j), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(y, _mm512_castsi512_ps(scale));
}

// run_channels_scalar without records, 16 channels at a time. The kVecs vectors are stepped
// phase by phase (each phase a loop over the vectors), so that their independent chains overlap
// in the CPU. min(x, c) / max(x, c) return c only when x > c / x < c, as std::min / std::max do
// for the (never NaN) values here; -x is a sign flip, as in the scalar version.
template <PulseLaw kLaw>
AIMC_AVX512_TARGET void run_channels_avx512(Channels& ch, LaneNormals& normals, const Machine& mc,
                                            long& p_io, long& o_io) {
  using namespace lanes_avx512;
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), half = _mm512_set1_ps(0.5f);
  const __m512 gain = _mm512_set1_ps(mc.gain), noise = _mm512_set1_ps(mc.pulse_noise);
  const __m512 upper = _mm512_set1_ps(mc.upper), read_noise = _mm512_set1_ps(mc.rule.read_noise);
  const __m512 q = _mm512_set1_ps(mc.rule.q_levels), inv_q = _mm512_set1_ps(mc.rule.inv_q);
  const __m512 tol_rel = _mm512_set1_ps(mc.rule.tol_rel);
  const __m512 tol_gmax = _mm512_set1_ps(mc.rule.tol_gmax);
  const __m512 half_lsb = _mm512_set1_ps(mc.rule.half_lsb);
  const __m512i sign = _mm512_set1_epi32(INT32_MIN), abs_bits = _mm512_set1_epi32(INT32_MAX);
  const __m512i zero_i = _mm512_setzero_si512(), one_i = _mm512_set1_epi32(1);
  const __m512i max_it = _mm512_set1_epi32(mc.max_it), conv_bit = _mm512_set1_epi32(kConvergedBit);
  long p = p_io, o = o_io;
  State st = load(normals);
  __m512i slot[kVecs], pulses[kVecs], frozen[kVecs];
  __m512 g[kVecs], from[kVecs], t[kVecs], lt[kVecs], floor[kVecs];
#pragma GCC unroll 4
  for (int v = 0; v < kVecs; ++v) {
    slot[v] = _mm512_load_si512(ch.slot + kWidth * v);
    pulses[v] = _mm512_load_si512(ch.pulses + kWidth * v);
    frozen[v] = _mm512_load_si512(ch.frozen + kWidth * v);
    g[v] = _mm512_load_ps(ch.g + kWidth * v);
    from[v] = _mm512_load_ps(ch.from + kWidth * v);
    t[v] = _mm512_load_ps(ch.t + kWidth * v);
    lt[v] = _mm512_load_ps(ch.lt + kWidth * v);
    floor[v] = _mm512_load_ps(ch.floor + kWidth * v);
  }
  for (bool any = true; any;) {
    __m512 z0[kVecs], z1[kVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      __m512i hi, lo;
      xoshiro(st, hi, lo);
      box_muller(hi, lo, z0[v], z1[v]);
    }
    // The pulse.
    __m512 aimed[kVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      __m512 moved;
      if (kLaw == PulseLaw::log_down) {
        aimed[v] = _mm512_mul_ps(gain, _mm512_sub_ps(from[v], lt[v]));
        const __m512 s = _mm512_max_ps(_mm512_add_ps(one, _mm512_mul_ps(noise, z0[v])), zero);
        const __m512 neg =
            _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(aimed[v]), sign));
        moved = _mm512_mul_ps(g[v], exp16(_mm512_mul_ps(neg, s)));
      } else {
        aimed[v] = _mm512_mul_ps(gain, _mm512_sub_ps(t[v], from[v]));
        moved = _mm512_min_ps(
            _mm512_max_ps(
                _mm512_add_ps(_mm512_add_ps(g[v], aimed[v]), _mm512_mul_ps(noise, z0[v])), zero),
            upper);
      }
      g[v] = _mm512_mask_blend_ps(_mm512_test_epi32_mask(frozen[v], frozen[v]), moved, g[v]);
      pulses[v] = _mm512_add_epi32(pulses[v], one_i);
    }
    // The verify read, the verdict and the next reading to aim from.
    __mmask16 done[kVecs], conv[kVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      const __mmask16 active = _mm512_cmpge_epi32_mask(slot[v], zero_i);
      const __mmask16 last = _mm512_cmpge_epi32_mask(pulses[v], max_it);
      const __m512 rv = _mm512_mul_ps(g[v], _mm512_add_ps(one, _mm512_mul_ps(read_noise, z1[v])));
      const __mmask16 over = _mm512_cmp_ps_mask(rv, one, _CMP_GT_OQ);
      const __m512i k = _mm512_cvttps_epi32(
          _mm512_add_ps(_mm512_mul_ps(_mm512_min_ps(_mm512_max_ps(rv, zero), one), q), half));
      const __m512 m = _mm512_mul_ps(_mm512_cvtepi32_ps(k), inv_q);
      const __m512 tol =
          _mm512_max_ps(_mm512_max_ps(_mm512_mul_ps(tol_rel, t[v]), tol_gmax), half_lsb);
      const __m512 dev = _mm512_castsi512_ps(
          _mm512_and_si512(_mm512_castps_si512(_mm512_sub_ps(m, t[v])), abs_bits));
      conv[v] = _kandn_mask16(over, _mm512_cmp_ps_mask(dev, tol, _CMP_LE_OQ));
      const __mmask16 overshoot =
          kLaw == PulseLaw::log_down ? _kandn_mask16(over, _mm512_cmp_ps_mask(m, _mm512_sub_ps(t[v], tol), _CMP_LT_OQ))
                 : __mmask16{0};
      done[v] = _kand_mask16(_kor_mask16(_kor_mask16(conv[v], overshoot), last), active);
      __m512 read, est;
      if (kLaw == PulseLaw::log_down) {
        read = _mm512_i32gather_ps(k, mc.ln_reading, 4);  // the caller checked the table is there
        est = _mm512_max_ps(_mm512_sub_ps(from[v], aimed[v]), floor[v]);
      } else {
        read = m;
        est = _mm512_max_ps(_mm512_add_ps(from[v], aimed[v]), floor[v]);
      }
      from[v] = _mm512_mask_blend_ps(over, read, est);
    }
    // The finished channels, vector by vector: log them (compressed, in channel order), then
    // they take the next queue entries.
    __mmask16 active_any = 0;
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      const __mmask16 d = done[v];
      const long n_done = __builtin_popcount(static_cast<unsigned>(d));
      _mm512_storeu_si512(mc.l_slot + o, _mm512_maskz_compress_epi32(d, slot[v]));
      _mm512_storeu_ps(mc.l_g + o, _mm512_maskz_compress_ps(d, g[v]));
      _mm512_storeu_si512(
          mc.l_packed + o,
          _mm512_maskz_compress_epi32(d, _mm512_mask_or_epi32(pulses[v], conv[v], pulses[v],
                                                              conv_bit)));
      o += n_done;
      slot[v] = _mm512_mask_expand_epi32(slot[v], d, _mm512_loadu_si512(mc.q_slot + p));
      pulses[v] = _mm512_maskz_mov_epi32(static_cast<__mmask16>(~d), pulses[v]);
      frozen[v] = _mm512_mask_expand_epi32(frozen[v], d, _mm512_loadu_si512(mc.q_frozen + p));
      g[v] = _mm512_mask_expand_ps(g[v], d, _mm512_loadu_ps(mc.q_g + p));
      from[v] = _mm512_mask_expand_ps(from[v], d, _mm512_loadu_ps(mc.q_from + p));
      t[v] = _mm512_mask_expand_ps(t[v], d, _mm512_loadu_ps(mc.q_t + p));
      lt[v] = _mm512_mask_expand_ps(lt[v], d, _mm512_loadu_ps(mc.q_lt + p));
      floor[v] = _mm512_mask_expand_ps(floor[v], d, _mm512_loadu_ps(mc.q_floor + p));
      p += n_done;
      active_any |= _mm512_cmpge_epi32_mask(slot[v], zero_i);
    }
    any = active_any != 0;
  }
#pragma GCC unroll 4
  for (int v = 0; v < kVecs; ++v) {
    _mm512_store_si512(ch.slot + kWidth * v, slot[v]);
    _mm512_store_si512(ch.pulses + kWidth * v, pulses[v]);
    _mm512_store_si512(ch.frozen + kWidth * v, frozen[v]);
    _mm512_store_ps(ch.g + kWidth * v, g[v]);
    _mm512_store_ps(ch.from + kWidth * v, from[v]);
    _mm512_store_ps(ch.t + kWidth * v, t[v]);
    _mm512_store_ps(ch.lt + kWidth * v, lt[v]);
    _mm512_store_ps(ch.floor + kWidth * v, floor[v]);
  }
  store(normals, st);
  p_io = p;
  o_io = o;
}

}  // namespace

void run_channels_avx512(PulseLaw law, Channels& ch, LaneNormals& normals, const Machine& mc,
                         long& p, long& o) {
  if (law == PulseLaw::log_down)
    run_channels_avx512<PulseLaw::log_down>(ch, normals, mc, p, o);
  else
    run_channels_avx512<PulseLaw::linear>(ch, normals, mc, p, o);
}

}  // namespace aimc::num::pv
#pragma GCC diagnostic pop
#endif
