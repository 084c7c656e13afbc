// The arithmetic the chip executes, as pure functions: activation codes, cell levels, normalized
// tile currents, the ADC, and the digital unit. The compiler calibrates with them and
// execute_ideal() replays a compiled image with them, so both produce the numbers the platform
// must reproduce with an ideal (noise-free) device. See docs/deployment-image.md, "Arithmetic".
//
// Rounding is std::round (half away from zero) everywhere. Currents are computed as an exact
// integer dot product (in double, exact below 2^53) times one scale factor, so summation order
// cannot move a value across an ADC rounding boundary.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace aimc::compiler::qmath {

inline int dac_max_code(int dac_bits) { return (1 << dac_bits) - 1; }    // Cmax
inline int max_level(int bits_per_cell) { return (1 << bits_per_cell) - 1; }  // L - 1
inline int adc_max_code(int adc_bits) { return (1 << (adc_bits - 1)) - 1; }  // A (signed ADC)

// Float activations -> unsigned DAC codes: clamp(round(x / in_scale), 0, Cmax).
inline Eigen::MatrixXi quantize_activations(const Eigen::MatrixXf& x, double in_scale, int dac_bits) {
  const int cmax = dac_max_code(dac_bits);
  Eigen::MatrixXi codes(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.size(); ++i)
    codes(i) = int(std::clamp(std::round(double(x(i)) / in_scale), 0.0, double(cmax)));
  return codes;
}

// Weights -> signed cell levels: clamp(round(W / w_scale * (L-1)), -(L-1), L-1).
inline int weight_level(float w, double w_scale, int bits_per_cell) {
  const int lm = max_level(bits_per_cell);
  return int(std::clamp(std::round(double(w) / w_scale * lm), double(-lm), double(lm)));
}

// Normalized column currents of one slice: i_j = sum_r (code_r / Cmax) * (level_rj / (L-1)) * (1 - g_min/g_max).
// codes: batch x row_count (the slice's inputs), levels: row_count x col_count.
inline Eigen::MatrixXd slice_currents(const Eigen::MatrixXi& codes, const Eigen::MatrixXi& levels, int dac_bits,
                                      int bits_per_cell, double g_ratio) {
  const double k = (1.0 - g_ratio) / (double(dac_max_code(dac_bits)) * max_level(bits_per_cell));
  return (codes.cast<double>() * levels.cast<double>()) * k;
}

// Signed ADC: clamp(round(i / full_scale * A), -A, A).
inline Eigen::MatrixXi adc_convert(const Eigen::MatrixXd& current, double full_scale, int adc_bits) {
  const int a = adc_max_code(adc_bits);
  Eigen::MatrixXi codes(current.rows(), current.cols());
  for (Eigen::Index i = 0; i < current.size(); ++i)
    codes(i) = int(std::clamp(std::round(current(i) / full_scale * a), double(-a), double(a)));
  return codes;
}

// acc_scale such that y = acc * acc_scale approximates W x (see the derivation in the docs).
inline double acc_scale(double adc_full_scale, int adc_bits, int dac_bits, double in_scale, double w_scale,
                        double g_ratio) {
  return adc_full_scale / adc_max_code(adc_bits) * dac_max_code(dac_bits) * in_scale * w_scale / (1.0 - g_ratio);
}

// Digital unit, in double with the image's float parameters: y = acc * acc_scale + bias, ReLU,
// then next-layer code clamp(round(y / out_quant_scale), 0, Cmax), or with output_i32 the int32
// value round(y / out_quant_scale) saturated to the int32 range.
inline Eigen::MatrixXd digital_y(const Eigen::MatrixXi& acc, float acc_scale_f, const Eigen::VectorXf& bias, bool relu) {
  Eigen::MatrixXd y(acc.rows(), acc.cols());
  for (Eigen::Index r = 0; r < acc.rows(); ++r)
    for (Eigen::Index c = 0; c < acc.cols(); ++c) {
      double v = double(acc(r, c)) * double(acc_scale_f) + double(bias(c));
      y(r, c) = relu ? std::max(v, 0.0) : v;
    }
  return y;
}

inline Eigen::MatrixXi requantize(const Eigen::MatrixXd& y, float out_quant_scale, bool output_i32, int dac_bits) {
  const double lo = output_i32 ? double(INT32_MIN) : 0.0;
  const double hi = output_i32 ? double(INT32_MAX) : double(dac_max_code(dac_bits));
  Eigen::MatrixXi out(y.rows(), y.cols());
  for (Eigen::Index i = 0; i < y.size(); ++i)
    out(i) = int(std::clamp(std::round(y(i) / double(out_quant_scale)), lo, hi));
  return out;
}

// p-th percentile (0 < p <= 100) of the values: the smallest value with at least p% of the values
// at or below it. Mutates (partially sorts) the input.
inline double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0.0;
  size_t k = size_t(std::ceil(p / 100.0 * double(v.size())));
  k = std::clamp<size_t>(k, 1, v.size()) - 1;
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

}  // namespace aimc::compiler::qmath
