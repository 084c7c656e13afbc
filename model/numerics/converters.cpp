#include "numerics/converters.h"
#include "numerics/digital_ops.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace aimc::num {

namespace {
std::string range(int lo, int hi) { return "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]"; }
// The ADC's quantizer as an Eigen functor (float: the tile).
struct AdcQuantize {
  float a;
  float operator()(float x) const { return adc_quantize(x, a); }
};
}  // namespace

int dac_max_code(int bits) {
  if (bits < kDacBitsMin || bits > kDacBitsMax)
    throw std::invalid_argument("DAC bits must be in " + range(kDacBitsMin, kDacBitsMax) + ", got " + std::to_string(bits));
  return (1 << bits) - 1;
}

int adc_max_code(int bits) {
  if (bits < kAdcBitsMin || bits > kAdcBitsMax)
    throw std::invalid_argument("ADC bits must be in " + range(kAdcBitsMin, kAdcBitsMax) + ", got " + std::to_string(bits));
  return (1 << (bits - 1)) - 1;
}

int cell_max_level(int bits_per_cell) {
  if (bits_per_cell < kCellBitsMin || bits_per_cell > kCellBitsMax)
    throw std::invalid_argument("bits per cell must be in " + range(kCellBitsMin, kCellBitsMax) + ", got " +
                                std::to_string(bits_per_cell));
  return (1 << bits_per_cell) - 1;
}

int adc_max_count(int bits) {
  adc_max_code(bits);  // the range check
  return (1 << bits) - 1;
}

Eigen::MatrixXi adc_counts(const Eigen::MatrixXd& currents, double full_scale, int bits) {
  const double u = adc_max_count(bits);
  Eigen::MatrixXi counts(currents.rows(), currents.cols());
  for (Eigen::Index i = 0; i < currents.size(); ++i) counts(i) = int(adc_count(currents(i) / full_scale * u, u));
  return counts;
}

long adc_convert_counts(const Eigen::MatrixXf& currents, const AdcSpec& spec, Eigen::MatrixXf& counts) {
  const float u = static_cast<float>(adc_max_count(spec.bits));
  if (!(spec.full_scale > 0.0f)) throw std::invalid_argument("ADC full_scale must be > 0");
  Eigen::ArrayXXf x = currents.array() / spec.full_scale * u;
  if (spec.column_offset_lsb) {
    const Eigen::VectorXf& off = *spec.column_offset_lsb;
    if (off.size() < currents.cols())
      throw std::invalid_argument("ADC column offsets: " + std::to_string(off.size()) + " values for " +
                                  std::to_string(currents.cols()) + " columns");
    x.rowwise() += off.head(currents.cols()).transpose().array();
  }
  const long clipped = ((x < 0.0f) || (x > u)).count();
  counts = x.unaryExpr([u](float v) { return adc_count(v, u); }).matrix();
  return clipped;
}

Eigen::MatrixXi adc_codes(const Eigen::MatrixXd& currents, double full_scale, int bits) {
  const double a = adc_max_code(bits);
  Eigen::MatrixXi codes(currents.rows(), currents.cols());
  for (Eigen::Index i = 0; i < currents.size(); ++i) codes(i) = int(adc_quantize(currents(i) / full_scale * a, a));
  return codes;
}

int dac_max_code(const DacSpec& spec) { return dac_max_code(spec.bits); }

Eigen::MatrixXf dac_voltages(const Eigen::MatrixXf& codes, const DacSpec& spec, long* clipped) {
  const float max_code = static_cast<float>(dac_max_code(spec));
  const Eigen::ArrayXXf rounded = codes.array().unaryExpr(RoundHalfAway());
  if (clipped) *clipped += ((rounded < 0.0f) || (rounded > max_code)).count();
  return (rounded.cwiseMax(0.0f).cwiseMin(max_code) / max_code).matrix();
}

Eigen::MatrixXi dac_code_ints(const Eigen::MatrixXf& codes, const DacSpec& spec, long* clipped) {
  const float max_code = static_cast<float>(dac_max_code(spec));
  const Eigen::ArrayXXf rounded = codes.array().unaryExpr(RoundHalfAway());
  if (clipped) *clipped += ((rounded < 0.0f) || (rounded > max_code)).count();
  return rounded.cwiseMax(0.0f).cwiseMin(max_code).cast<int>().matrix();
}

Eigen::MatrixXf bit_plane(const Eigen::MatrixXi& codes, int k) {
  return codes.unaryExpr([k](int c) { return static_cast<float>((c >> k) & 1); });
}

int adc_max_code(const AdcSpec& spec) { return adc_max_code(spec.bits); }

long adc_convert(const Eigen::MatrixXf& currents, const AdcSpec& spec, Eigen::MatrixXf& codes) {
  const float a = static_cast<float>(adc_max_code(spec));
  if (!(spec.full_scale > 0.0f))
    throw std::invalid_argument("ADC full_scale must be > 0");
  if (!spec.column_offset_lsb) {
    const long clipped = (currents.array().abs() > spec.full_scale).count();
    // Clip first, then quantize (the order of docs/nonidealities.md). Clipping the scaled value
    // to [-A, A] is the same as clipping the current to [-full_scale, full_scale].
    codes = (currents.array() / spec.full_scale * a).unaryExpr(AdcQuantize{a}).matrix();
    return clipped;
  }
  const Eigen::VectorXf& off = *spec.column_offset_lsb;
  if (off.size() < currents.cols())
    throw std::invalid_argument("ADC column offsets: " + std::to_string(off.size()) +
                                " values for " + std::to_string(currents.cols()) + " columns");
  Eigen::ArrayXXf x = currents.array() / spec.full_scale * a;
  x.rowwise() += off.head(currents.cols()).transpose().array();
  const long clipped = (x.abs() > a).count();
  codes = x.unaryExpr(AdcQuantize{a}).matrix();
  return clipped;
}

long digital_unit(const Eigen::MatrixXf& acc, const float* bias, const DigitalSpec& spec,
                  Eigen::MatrixXf& out) {
  if (!(spec.out_quant_scale > 0.0f))
    throw std::invalid_argument("digital unit out_quant_scale must be > 0");
  if (!spec.output_int32 && (spec.out_bits < 1 || spec.out_bits > 24))
    throw std::invalid_argument("digital unit out_bits must be in [1, 24], got " +
                                std::to_string(spec.out_bits));
  Eigen::ArrayXXf y = acc.array() * spec.acc_scale;
  if (spec.column_scale) {
    const Eigen::Map<const Eigen::RowVectorXf> s(spec.column_scale, acc.cols());
    y.rowwise() *= s.array();
  }
  if (bias) {
    const Eigen::Map<const Eigen::RowVectorXf> b(bias, acc.cols());
    y.rowwise() += b.array();
  }
  Requant q;
  q.scale = spec.out_quant_scale;
  q.zero = spec.out_zero;
  q.bits = spec.out_bits;
  q.int32 = spec.output_int32;
  q.act_min = spec.relu ? std::max(0.0f, spec.act_min) : spec.act_min;
  q.act_max = spec.act_max;
  q.act = spec.act;
  q.act.channels = acc.cols();
  q.act.channel_stride = acc.rows();  // y is column-major: a column is one output channel
  const long clipped = requantize(y.data(), long(y.size()), q);
  out = y.matrix();
  return clipped;
}

}  // namespace aimc::num
