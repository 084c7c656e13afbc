// The tile pipeline DAC -> crossbar -> ADC in ideal mode against a float matmul of the dequantized
// inputs and weights: the only error left must be the ADC's rounding (plus float summation).
#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "numerics/tile_numerics.h"

using namespace aimc::num;

namespace {

struct Case {
  int rows = 64, cols = 16, batch = 100;
  int cell_bits = 4, dac_bits = 8;
  std::vector<int16_t> levels;  // rows x cols, row-major
  Eigen::MatrixXf codes;        // batch x rows
  Eigen::MatrixXd expect;       // batch x cols, normalized current, double
  Eigen::MatrixXd abs_sum;      // batch x cols, sum |v| |dg|, for the float error bound
};

Case make_case(uint64_t seed) {
  Case k;
  Rng r(seed);
  const int lmax = (1 << k.cell_bits) - 1, cmax = (1 << k.dac_bits) - 1;
  k.levels.resize(static_cast<size_t>(k.rows) * k.cols);
  for (auto& l : k.levels) l = static_cast<int16_t>(static_cast<int>(r.next() % (2 * lmax + 1)) - lmax);
  k.codes.resize(k.batch, k.rows);
  for (Eigen::Index j = 0; j < k.codes.size(); ++j)
    k.codes.data()[j] = static_cast<float>(r.next() % (cmax + 1));

  // Dequantized weights: level / (L-1) scaled by the conductance window (1 - g_min/g_max).
  const double gmin = 1.0 / 1000.0;
  k.expect = Eigen::MatrixXd::Zero(k.batch, k.cols);
  k.abs_sum = Eigen::MatrixXd::Zero(k.batch, k.cols);
  for (int b = 0; b < k.batch; ++b)
    for (int c = 0; c < k.cols; ++c)
      for (int i = 0; i < k.rows; ++i) {
        const double v = k.codes(b, i) / cmax;
        const double w = k.levels[static_cast<size_t>(i) * k.cols + c] / double(lmax) * (1 - gmin);
        k.expect(b, c) += v * w;
        k.abs_sum(b, c) += std::abs(v * w);
      }
  return k;
}

Crossbar ideal_crossbar(const Case& k) {
  DeviceSpec spec;
  spec.ideal = true;
  spec.bits_per_cell = k.cell_bits;
  Crossbar xb(k.rows + 8, k.cols + 4, spec);  // larger array: the used block is a corner
  xb.program_levels(k.levels.data(), k.rows, k.cols, nullptr);
  return xb;
}

// Float error of the GEMM: a dot product of n terms in float is within about n * 2^-24 * sum|x y|
// of the exact value; the conductances carry one more float rounding each, and dividing by the
// LSB one more. 4x covers those.
double float_slack(const Case& k, int b, int c) {
  return 4.0 * k.rows * std::ldexp(1.0, -24) * k.abs_sum(b, c);
}

}  // namespace

TEST(TileMvm, IdealMatchesFloatMatmulWithinHalfAnAdcLsb) {
  const Case k = make_case(42);
  const Crossbar xb = ideal_crossbar(k);
  const float fs = static_cast<float>(k.expect.cwiseAbs().maxCoeff() * 1.01);  // nothing clips
  const AdcSpec adc{8, fs};
  const double lsb = fs / adc_max_code(adc);

  Rng read(7);  // ideal mode ignores it
  const TileMvmResult res = tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, adc, &read);
  ASSERT_EQ(res.adc_codes.rows(), k.batch);
  ASSERT_EQ(res.adc_codes.cols(), k.cols);
  EXPECT_EQ(res.adc_clipped, 0);
  EXPECT_EQ(res.dac_clipped, 0);
  EXPECT_EQ(res.stats.vectors, k.batch);

  double max_err_lsb = 0, sum_abs_err_lsb = 0;
  for (int b = 0; b < k.batch; ++b)
    for (int c = 0; c < k.cols; ++c) {
      const double err = res.adc_codes(b, c) * lsb - k.expect(b, c);
      EXPECT_LE(std::abs(err), lsb / 2 + float_slack(k, b, c)) << "b " << b << " c " << c;
      max_err_lsb = std::max(max_err_lsb, std::abs(err) / lsb);
      sum_abs_err_lsb += std::abs(err) / lsb;
    }
  // The bound is tight, not vacuous: the rounding error is spread uniformly over +-1/2 LSB, so its
  // mean magnitude is 1/4 LSB with a per-sample sd of sqrt(1/48) LSB. Skipping or mis-scaling the
  // quantization fails this.
  const double n = static_cast<double>(k.batch) * k.cols;
  EXPECT_GT(max_err_lsb, 0.45);
  EXPECT_LT(std::abs(sum_abs_err_lsb / n - 0.25), 5 * std::sqrt(1.0 / 48.0) / std::sqrt(n));
}

// Bit-serial inputs (converters.h, "Bit-serial inputs"): each of the b reads is converted, so the
// result carries b rounding errors weighted 2^k / Cmax, not one. With independent errors uniform on
// +-1/2 LSB (variance 1/12, fourth moment 1/80) the mean square error is 1/12 sum_k a_k^2, a_k =
// 2^k / (2^b - 1): 0.336 / 12 LSB^2 at 8 bits, a third of a one-shot conversion's 1/12 (same full
// scale). The test measures both on the same inputs and checks each against its law within 5 sd of
// the mean of n squares.
TEST(TileMvm, BitSerialQuantizationErrorIsThatOfOneConversionPerInputBit) {
  const Case k = make_case(45);
  const Crossbar xb = ideal_crossbar(k);
  const int cmax = (1 << k.dac_bits) - 1, lmax = (1 << k.cell_bits) - 1;
  // Full scale above every bit's partial sum (v = 1 on the rows whose bit is set): nothing clips.
  double i_max = 0;
  for (int bit = 0; bit < k.dac_bits; ++bit)
    for (int b = 0; b < k.batch; ++b)
      for (int c = 0; c < k.cols; ++c) {
        double i = 0;
        for (int r = 0; r < k.rows; ++r)
          if ((static_cast<int>(k.codes(b, r)) >> bit) & 1)
            i += k.levels[static_cast<size_t>(r) * k.cols + c] / double(lmax) * (1 - 1.0 / 1000.0);
        i_max = std::max(i_max, std::abs(i));
      }
  const float fs = static_cast<float>(i_max * 1.01);
  const AdcSpec adc{8, fs};
  const double lsb = fs / adc_max_code(adc);
  const TileMvmResult one = tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, adc, nullptr);
  const TileMvmResult ser = tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, adc, nullptr, 0, 0,
                                     TileRead{InputCoding::bit_serial});
  EXPECT_EQ(ser.adc_clipped, 0);
  EXPECT_EQ(ser.stats.vectors, static_cast<long>(k.batch) * k.dac_bits);  // b reads per vector
  double sq_one = 0, sq_ser = 0;
  for (int b = 0; b < k.batch; ++b)
    for (int c = 0; c < k.cols; ++c) {
      const double e1 = one.adc_codes(b, c) - k.expect(b, c) / lsb, es = ser.adc_codes(b, c) - k.expect(b, c) / lsb;
      sq_one += e1 * e1;
      sq_ser += es * es;
      EXPECT_LE(std::abs(es), 0.5 + 1e-3) << "b " << b << " c " << c;  // sum_k a_k / 2 = 1/2 LSB at most
    }
  const double n = static_cast<double>(k.batch) * k.cols;
  double a2 = 0, a4 = 0;
  for (int bit = 0; bit < k.dac_bits; ++bit) {
    const double a = std::ldexp(1.0, bit) / cmax;
    a2 += a * a;
    a4 += a * a * a * a;
  }
  const double var_one = 1.0 / 12, var_ser = a2 / 12;
  const double e4_ser = a4 / 80 + 3 * (a2 * a2 - a4) / 144;  // E[(sum a_k u_k)^4]
  EXPECT_NEAR(sq_one / n, var_one, 5 * std::sqrt((1.0 / 80 - var_one * var_one) / n));
  EXPECT_NEAR(sq_ser / n, var_ser, 5 * std::sqrt((e4_ser - var_ser * var_ser) / n));
  EXPECT_LT(sq_ser / n, 0.5 * sq_one / n);  // the laws differ, and so do the measurements
}

// Sign-split reads (converters.h, "Sign-split reads"): the g+ and g- sides are counted apart over
// the converter's whole range, U = 2^b - 1 steps, and subtracted. Each count errs uniformly by
// +-1/2 count, so in the one-shot ADC's LSB (A / U of a count) the mean square error is
// 2/12 (A/U)^2 (0.0415 at 8 bits, half a one-shot conversion's 1/12 at the same full scale).
// A column's offset enters both counts and cancels; a one-shot conversion keeps it.
TEST(TileMvm, SignSplitReadsCountBothSidesAndCancelTheColumnOffset) {
  const Case k = make_case(46);
  const Crossbar xb = ideal_crossbar(k);
  const float fs = static_cast<float>(k.rows * 1.01);  // above any side's current (v, g <= 1)
  Eigen::VectorXf offsets = Eigen::VectorXf::Constant(k.cols, 0.0f);
  for (int c = 0; c < k.cols; ++c) offsets(c) = static_cast<float>(3 + c % 5) + 0.25f;  // 3.25 .. 7.25 LSB
  const AdcSpec plain{8, fs}, with_offset{8, fs, &offsets};
  const double lsb = fs / adc_max_code(plain);
  const TileRead split{InputCoding::one_shot, 2};
  const TileMvmResult one = tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, plain, nullptr);
  const TileMvmResult two = tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, plain, nullptr, 0, 0, split);
  const TileMvmResult one_off = tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, with_offset, nullptr);
  const TileMvmResult two_off =
      tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, with_offset, nullptr, 0, 0, split);
  EXPECT_EQ(two.stats.vectors, 2L * k.batch);  // two reads per vector
  const TileMvmResult four =
      tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, plain, nullptr, 0, 0, TileRead{InputCoding::one_shot, 4});
  EXPECT_EQ(four.stats.vectors, 4L * k.batch);
  EXPECT_TRUE(four.adc_codes == two.adc_codes);  // the negative-input phases add nothing
  const double a_over_u = double(adc_max_code(8)) / adc_max_count(8);
  double sq_one = 0, sq_two = 0, off_one = 0, off_two = 0;
  for (int b = 0; b < k.batch; ++b)
    for (int c = 0; c < k.cols; ++c) {
      const double x = k.expect(b, c) / lsb;
      sq_one += (one.adc_codes(b, c) - x) * (one.adc_codes(b, c) - x);
      sq_two += (two.adc_codes(b, c) - x) * (two.adc_codes(b, c) - x);
      off_one += one_off.adc_codes(b, c) - x;
      off_two += two_off.adc_codes(b, c) - x;
      // Each count's offset shifts it by the same amount: the difference moves by the rounding only.
      EXPECT_LE(std::abs(two_off.adc_codes(b, c) - two.adc_codes(b, c)), a_over_u + 1e-4) << b << " " << c;
    }
  const double n = static_cast<double>(k.batch) * k.cols;
  const double var_two = 2.0 / 12 * a_over_u * a_over_u;
  // sd of a mean of squares of a sum of two uniforms u1 - u2 (scaled by a_over_u): E[(u1-u2)^4] = 2/80 + 6/144.
  const double e4_two = (2.0 / 80 + 6.0 / 144) * std::pow(a_over_u, 4);
  EXPECT_NEAR(sq_one / n, 1.0 / 12, 5 * std::sqrt((1.0 / 80 - 1.0 / 144) / n));
  EXPECT_NEAR(sq_two / n, var_two, 5 * std::sqrt((e4_two - var_two * var_two) / n));
  // The one-shot read keeps the mean offset (5.125 LSB); the sign-split read cancels it.
  EXPECT_NEAR(off_one / n, offsets.cast<double>().mean(), 0.05);
  EXPECT_NEAR(off_two / n, 0.0, 0.05);
}

TEST(TileMvm, AdcClipsExactlyTheCurrentsBeyondFullScale) {
  const Case k = make_case(43);
  const Crossbar xb = ideal_crossbar(k);
  // Full scale halfway between two neighbouring |i| values near the middle, so no current sits on
  // the edge within float error.
  std::vector<double> mags(k.expect.data(), k.expect.data() + k.expect.size());
  for (auto& m : mags) m = std::abs(m);
  std::sort(mags.begin(), mags.end());
  const size_t mid = mags.size() / 2;
  const float fs = static_cast<float>((mags[mid] + mags[mid + 1]) / 2);
  const long expect_clipped = static_cast<long>(mags.size() - (mid + 1));

  const TileMvmResult res = tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, AdcSpec{6, fs}, nullptr);
  EXPECT_EQ(res.adc_clipped, expect_clipped);
  EXPECT_EQ(res.adc_codes.cwiseAbs().maxCoeff(), 31.0f);
}

TEST(TileMvm, DacClippingIsCounted) {
  Case k = make_case(44);
  k.codes(0, 0) = 300;
  k.codes(3, 5) = -2;
  const Crossbar xb = ideal_crossbar(k);
  const TileMvmResult res = tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, AdcSpec{8, 100.0f}, nullptr);
  EXPECT_EQ(res.dac_clipped, 2);
}

TEST(TileMvm, RowSlicesAddUpThroughTheDigitalUnit) {
  // A layer split over two tiles by rows: the digital unit adds the two slices' ADC codes. Each
  // slice carries at most half an LSB of rounding, so the sum is within one LSB of the exact
  // layer output; the digital unit then scales by the LSB (acc_scale) and requantizes.
  const Case k = make_case(45);
  DeviceSpec spec;
  spec.ideal = true;
  spec.bits_per_cell = k.cell_bits;
  const int half = k.rows / 2;
  std::vector<int16_t> top(k.levels.begin(), k.levels.begin() + half * k.cols);
  std::vector<int16_t> bottom(k.levels.begin() + half * k.cols, k.levels.end());
  Crossbar t0(half, k.cols, spec), t1(half, k.cols, spec);
  t0.program_levels(top.data(), half, k.cols, nullptr);
  t1.program_levels(bottom.data(), half, k.cols, nullptr);

  const float fs = static_cast<float>(k.expect.cwiseAbs().maxCoeff());
  const AdcSpec adc{10, fs};
  const double lsb = fs / adc_max_code(adc);
  const TileMvmResult r0 = tile_mvm(t0, k.codes.leftCols(half), half, k.cols, DacSpec{k.dac_bits}, adc, nullptr);
  const TileMvmResult r1 = tile_mvm(t1, k.codes.rightCols(k.rows - half), k.rows - half, k.cols,
                                    DacSpec{k.dac_bits}, adc, nullptr);
  ASSERT_EQ(r0.adc_clipped + r1.adc_clipped, 0);
  const Eigen::MatrixXf acc = r0.adc_codes + r1.adc_codes;

  const float out_q = static_cast<float>(fs / 50.0);  // output codes up to ~50, no clipping at 8 bits
  Eigen::MatrixXf out;
  const long clipped = digital_unit(acc, nullptr, DigitalSpec{static_cast<float>(lsb), true, out_q, 8, false}, out);
  EXPECT_EQ(clipped, 0);
  for (int b = 0; b < k.batch; ++b)
    for (int c = 0; c < k.cols; ++c) {
      EXPECT_LE(std::abs(acc(b, c) * lsb - k.expect(b, c)), lsb + float_slack(k, b, c));
      // The digital unit's formula by hand, in the same float arithmetic.
      const float y = std::max(0.0f, acc(b, c) * static_cast<float>(lsb));
      EXPECT_EQ(out(b, c), std::round(y / out_q));
    }
}

TEST(TileMvm, SameReadStreamGivesSameNoisyCodes) {
  const Case k = make_case(46);
  DeviceSpec spec;
  spec.bits_per_cell = k.cell_bits;
  Crossbar xb(k.rows, k.cols, spec);
  Rng prog = RngStreams(1).stream("prog/tile0");
  xb.program_levels(k.levels.data(), k.rows, k.cols, &prog);
  const AdcSpec adc{8, static_cast<float>(k.expect.cwiseAbs().maxCoeff())};
  Rng a = RngStreams(1).stream("read/tile0"), b = RngStreams(1).stream("read/tile0");
  const TileMvmResult ra = tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, adc, &a);
  const TileMvmResult rb = tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, adc, &b);
  EXPECT_EQ(ra.adc_codes, rb.adc_codes);
  const TileMvmResult rc = tile_mvm(xb, k.codes, k.rows, k.cols, DacSpec{k.dac_bits}, adc, &a);
  EXPECT_NE(ra.adc_codes, rc.adc_codes) << "the stream advances: a second read differs";
}
