// The tile's arithmetic with an ideal (noise-free) device in exact form: cell levels, normalized
// slice currents, the accumulator scale, the host's input encoding, and the percentile that
// calibration picks ranges with. The compiler calibrates with them and its ideal executor replays
// a compiled image with them; the code ranges and the ADC quantizer are the converters' own
// (converters.h), the ones the tile uses. See docs/deployment-image.md, "Arithmetic".
//
// Currents are an exact integer dot product (in double, exact below 2^53) times one scale factor,
// so summation order cannot move a value across an ADC rounding boundary.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

#include "numerics/converters.h"

namespace aimc::num {

// Weights -> signed cell levels: clamp(round(W / w_scale * (L-1)), -(L-1), L-1).
inline int weight_level(float w, double w_scale, int bits_per_cell) {
  const int lm = cell_max_level(bits_per_cell);
  return int(std::clamp(std::round(double(w) / w_scale * lm), double(-lm), double(lm)));
}

// Normalized column currents of one slice: i_j = sum_r (code_r / Cmax) * (level_rj / (L-1)) * (1 - g_min/g_max).
// codes: batch x row_count (the slice's inputs), levels: row_count x col_count.
inline Eigen::MatrixXd slice_currents(const Eigen::MatrixXi& codes, const Eigen::MatrixXi& levels, int dac_bits,
                                      int bits_per_cell, double g_ratio) {
  const double k = (1.0 - g_ratio) / (double(dac_max_code(dac_bits)) * cell_max_level(bits_per_cell));
  return (codes.cast<double>() * levels.cast<double>()) * k;
}

// acc_scale such that y = acc * acc_scale approximates W x (see the derivation in the docs).
inline double acc_scale(double adc_full_scale, int adc_bits, int dac_bits, double in_scale, double w_scale,
                        double g_ratio) {
  return adc_full_scale / adc_max_code(adc_bits) * dac_max_code(dac_bits) * in_scale * w_scale / (1.0 - g_ratio);
}

// The host's input encoding: DAC code = clamp(round(x / in_scale) + in_zero, 0, Cmax).
inline int input_code(double x, double in_scale, int in_zero, int cmax) {
  return int(std::clamp(std::round(x / in_scale) + double(in_zero), 0.0, double(cmax)));
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

}  // namespace aimc::num
