// DAC, ADC and digital unit against hand-computed values.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>

#include "numerics/converters.h"
#include "numerics/digital_ops.h"

using namespace aimc::num;

TEST(Dac, MapsCodesToNormalizedVoltageAndClips) {
  Eigen::MatrixXf codes(2, 3);
  codes << 0, 255, 128,
           -3, 300, 12;
  long clipped = 0;
  const Eigen::MatrixXf v = dac_voltages(codes, DacSpec{8}, &clipped);
  ASSERT_EQ(v.rows(), 2);
  ASSERT_EQ(v.cols(), 3);
  EXPECT_FLOAT_EQ(v(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(v(0, 1), 1.0f);
  EXPECT_FLOAT_EQ(v(0, 2), 128.0f / 255.0f);
  EXPECT_FLOAT_EQ(v(1, 0), 0.0f);  // -3 clipped to 0
  EXPECT_FLOAT_EQ(v(1, 1), 1.0f);  // 300 clipped to 255
  EXPECT_FLOAT_EQ(v(1, 2), 12.0f / 255.0f);
  EXPECT_EQ(clipped, 2);
  dac_voltages(codes, DacSpec{8}, &clipped);
  EXPECT_EQ(clipped, 4) << "the count accumulates";
}

// The quantizers' rounding must be std::round's, bit for bit (sign of zero and NaN included).
TEST(Rounding, RoundHalfAwayIsStdRoundBitForBit) {
  const auto bits = [](float v) {
    uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    return u;
  };
  long checked = 0, differ = 0;
  const auto check = [&](float x) {
    const float a = round_half_away(x), b = std::round(x);
    const bool same = std::isnan(b) ? std::isnan(a) : bits(a) == bits(b);
    if (!same && differ++ < 5) ADD_FAILURE() << "x = " << x << ": " << a << " against " << b;
    ++checked;
  };
  // Halves and their float neighbours, both signs, over the whole range where halves exist.
  for (float k = 0.0f; k < 8388608.0f; k = (k < 4096.0f) ? k + 1.0f : k * 1.001f) {
    const float h = std::floor(k) + 0.5f;
    for (float x : {h, std::nextafter(h, 0.0f), std::nextafter(h, 1e30f)}) {
      check(x);
      check(-x);
    }
  }
  for (float x : {0.0f, -0.0f, 0.49999997f, -0.49999997f, 0.5f, -0.5f, 1.0f, -2.5f, 8388607.5f,
                  8388608.0f, 16777217.0f, 1e30f, -1e30f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                  std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::min()})
    check(x);
  // Every 251st bit pattern (all exponents, both signs).
  for (uint64_t u = 0; u < (uint64_t{1} << 32); u += 251) {
    float x;
    const uint32_t v = static_cast<uint32_t>(u);
    std::memcpy(&x, &v, sizeof x);
    check(x);
  }
  EXPECT_EQ(differ, 0) << "of " << checked;
  EXPECT_GT(checked, 17000000);
}

TEST(Dac, RejectsBadBits) {
  Eigen::MatrixXf codes = Eigen::MatrixXf::Zero(1, 1);
  EXPECT_THROW(dac_voltages(codes, DacSpec{0}), std::invalid_argument);
  EXPECT_THROW(dac_voltages(codes, DacSpec{25}), std::invalid_argument);
  EXPECT_EQ(dac_max_code(DacSpec{4}), 15);
}

TEST(Adc, QuantizesClipsAndCounts) {
  const AdcSpec spec{8, 2.0f};  // A = 127, LSB = 2/127
  Eigen::MatrixXf i(1, 7);
  i << 0.0f, 2.0f, -2.0f, 0.6f, 2.5f, -7.0f, -0.01f;
  Eigen::MatrixXf codes;
  const long clipped = adc_convert(i, spec, codes);
  ASSERT_EQ(codes.cols(), 7);
  EXPECT_EQ(codes(0, 0), 0.0f);
  EXPECT_EQ(codes(0, 1), 127.0f);   // exactly full scale: not clipped
  EXPECT_EQ(codes(0, 2), -127.0f);
  EXPECT_EQ(codes(0, 3), 38.0f);    // 0.6 / 2 * 127 = 38.1
  EXPECT_EQ(codes(0, 4), 127.0f);   // clipped
  EXPECT_EQ(codes(0, 5), -127.0f);  // clipped
  EXPECT_EQ(codes(0, 6), -1.0f);    // -0.635 rounds to -1
  EXPECT_EQ(clipped, 2);
  EXPECT_EQ(adc_max_code(spec), 127);
}

TEST(Adc, RoundsHalfAwayFromZero) {
  const AdcSpec spec{2, 1.0f};  // A = 1: codes -1, 0, 1 with thresholds at +-0.5
  Eigen::MatrixXf i(1, 4);
  i << 0.5f, -0.5f, 0.49f, -0.49f;
  Eigen::MatrixXf codes;
  EXPECT_EQ(adc_convert(i, spec, codes), 0);
  EXPECT_EQ(codes(0, 0), 1.0f);
  EXPECT_EQ(codes(0, 1), -1.0f);
  EXPECT_EQ(codes(0, 2), 0.0f);
  EXPECT_EQ(codes(0, 3), 0.0f);
}

TEST(Adc, RejectsBadSpec) {
  Eigen::MatrixXf i = Eigen::MatrixXf::Zero(1, 1), codes;
  EXPECT_THROW(adc_convert(i, AdcSpec{1, 1.0f}, codes), std::invalid_argument);
  EXPECT_THROW(adc_convert(i, AdcSpec{8, 0.0f}, codes), std::invalid_argument);
}

// The one ADC arithmetic: the tile's float conversion and the compiler's exact (double) one are
// the same quantizer, round(clamp(i / full_scale * A, -A, A)) half away from zero.
TEST(Adc, FloatAndDoubleConversionsAreOneQuantizer) {
  const float fs = 1.7f;
  const int bits = 6;
  const int a = adc_max_code(bits);
  Eigen::MatrixXf cur_f(1, 4001);
  for (int k = 0; k < cur_f.cols(); ++k) cur_f(0, k) = -2.5f + 5.0f * float(k) / 4000.0f;
  // Exactly on the rounding boundaries, both signs: (n + 0.5) LSB.
  for (int n = -a; n < a; ++n) cur_f(0, (n + a) % 4001) = float((n + 0.5) * double(fs) / a);
  const Eigen::MatrixXd cur_d = cur_f.cast<double>();
  Eigen::MatrixXf tile_codes;
  adc_convert(cur_f, AdcSpec{bits, fs}, tile_codes);
  const Eigen::MatrixXi compiler_codes = adc_codes(cur_d, fs, bits);
  for (int k = 0; k < cur_f.cols(); ++k) {
    const double want = std::clamp(std::round(cur_d(0, k) / double(fs) * a), double(-a), double(a));
    EXPECT_EQ(compiler_codes(0, k), int(want)) << "i = " << cur_d(0, k);
    EXPECT_EQ(adc_quantize(float(cur_f(0, k) / fs * float(a)), float(a)), tile_codes(0, k));
  }
  EXPECT_EQ(compiler_codes.maxCoeff(), a);
  EXPECT_EQ(compiler_codes.minCoeff(), -a);
}

TEST(CodeRanges, OneDefinitionWithItsLimits) {
  EXPECT_EQ(dac_max_code(8), 255);
  EXPECT_EQ(dac_max_code(kDacBitsMax), (1 << 24) - 1);
  EXPECT_EQ(adc_max_code(2), 1);
  EXPECT_EQ(adc_max_code(8), 127);
  EXPECT_EQ(cell_max_level(6), 63);
  EXPECT_THROW(dac_max_code(kDacBitsMin - 1), std::invalid_argument);
  EXPECT_THROW(adc_max_code(kAdcBitsMax + 1), std::invalid_argument);
  EXPECT_THROW(cell_max_level(kCellBitsMax + 1), std::invalid_argument);
  EXPECT_EQ(adc_max_code(AdcSpec{8, 1.0f}), adc_max_code(8));
  EXPECT_EQ(dac_max_code(DacSpec{5}), dac_max_code(5));
}

namespace {
Eigen::MatrixXf example_acc() {
  Eigen::MatrixXf acc(2, 3);
  acc << 10, -4, 3,
         40, 1, 0;
  return acc;
}
const float kBias[3] = {0.1f, 0.2f, -0.3f};
}  // namespace

TEST(DigitalUnit, ReluRequantizeAndClip) {
  // y = acc * 0.5 + bias:  row 0: 5.1 -1.8 1.2   row 1: 20.1 0.7 -0.3
  // ReLU:                  row 0: 5.1  0   1.2   row 1: 20.1 0.7  0
  // / 0.25, round:         row 0: 20   0   5     row 1: 80   3    0
  // clip to [0, 15]:       row 0: 15   0   5     row 1: 15   3    0    (2 clipped)
  Eigen::MatrixXf out;
  const long clipped = digital_unit(example_acc(), kBias, DigitalSpec{0.5f, true, 0.25f, 4, false}, out);
  Eigen::MatrixXf expect(2, 3);
  expect << 15, 0, 5,
            15, 3, 0;
  EXPECT_EQ(out, expect);
  EXPECT_EQ(clipped, 2);
}

TEST(DigitalUnit, NoReluClipsNegativeCodesToZero) {
  // Without ReLU: row 0: 20.4 -7.2 4.8 -> 20 -7 5 -> 15 0 5; row 1: 80.4 2.8 -1.2 -> 80 3 -1 -> 15 3 0
  Eigen::MatrixXf out;
  const long clipped = digital_unit(example_acc(), kBias, DigitalSpec{0.5f, false, 0.25f, 4, false}, out);
  Eigen::MatrixXf expect(2, 3);
  expect << 15, 0, 5,
            15, 3, 0;
  EXPECT_EQ(out, expect);
  EXPECT_EQ(clipped, 4);
}

TEST(DigitalUnit, Int32OutputIsSignedAndUnclipped) {
  Eigen::MatrixXf out;
  const long clipped = digital_unit(example_acc(), kBias, DigitalSpec{0.5f, false, 0.25f, 4, true}, out);
  Eigen::MatrixXf expect(2, 3);
  expect << 20, -7, 5,
            80, 3, -1;
  EXPECT_EQ(out, expect);
  EXPECT_EQ(clipped, 0);

  Eigen::MatrixXf huge(1, 2);
  huge << 1e10f, -1e10f;
  EXPECT_EQ(digital_unit(huge, nullptr, DigitalSpec{1.0f, false, 1.0f, 8, true}, out), 2);
  EXPECT_EQ(static_cast<double>(out(0, 0)), 2147483520.0);
  EXPECT_EQ(static_cast<double>(out(0, 1)), -2147483648.0);
}

// Issue 20: per-column weight scales multiply each output column before the bias; the activation
// comes after the bias, before the clamp, with PReLU's slope per output column.
TEST(DigitalUnit, ColumnScalesThenBiasThenActivation) {
  // acc * 0.5 * {1, 0.5, 2} + bias: row 0: 5.1 -0.8 2.7   row 1: 20.1 0.45 -0.3
  const float scales[3] = {1.0f, 0.5f, 2.0f};
  DigitalSpec ds{0.5f, false, 0.25f, 8, true};
  ds.column_scale = scales;
  Eigen::MatrixXf out;
  digital_unit(example_acc(), kBias, ds, out);
  Eigen::MatrixXf expect(2, 3);
  expect << 20, -3, 11,  // 5.1 / 0.25 = 20.4, -0.8 / 0.25 = -3.2, 2.7 / 0.25 = 10.8
            80, 2, -1;   // 80.4, 1.8, -1.2
  EXPECT_EQ(out, expect);
  // PReLU with slopes {0, 0.5, -1} per column: negatives scaled by their column's slope.
  const float slopes[3] = {0.0f, 0.5f, -1.0f};
  ds.act.kind = ActKind::prelu;
  ds.act.slope = slopes;
  digital_unit(example_acc(), kBias, ds, out);
  expect << 20, -2, 11,  // -0.8 * 0.5 = -0.4 -> -1.6 -> -2
            80, 2, 1;    // -0.3 * -1 = 0.3 -> 1.2 -> 1
  EXPECT_EQ(out, expect);
}

TEST(DigitalUnit, NullBiasMeansZero) {
  Eigen::MatrixXf out;
  digital_unit(example_acc(), nullptr, DigitalSpec{1.0f, true, 2.0f, 8, false}, out);
  Eigen::MatrixXf expect(2, 3);
  expect << 5, 0, 2,   // 3 / 2 = 1.5 rounds away from zero
            20, 1, 0;  // 1 / 2 = 0.5 rounds to 1
  EXPECT_EQ(out, expect);
}
