// Transfer functions of the tile's converters and digital unit, batch-at-once.
// Matrices hold a batch of vectors as ROWS: (batch x rows_used) into the array, (batch x cols_used)
// out of it. Units: DAC output is a NORMALIZED voltage in [0, 1] (physical volts = v * v_read);
// ADC input is a NORMALIZED current (physical amperes = i * v_read * g_max, see crossbar.h).
// Rounding is half away from zero everywhere (std::round).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "numerics/activation.h"

#include <Eigen/Core>

namespace aimc::num {

// ---- The converters' integer arithmetic (one definition for the tile, the compiler's
// calibration and its ideal executor) ----------------------------------------------------------
// Resolutions the converters support (codes must stay exact in float).
inline constexpr int kDacBitsMin = 1, kDacBitsMax = 24;
inline constexpr int kAdcBitsMin = 2, kAdcBitsMax = 24;
inline constexpr int kCellBitsMin = 1, kCellBitsMax = 15;  // signed levels fit int16

// Largest unsigned DAC code, Cmax = 2^bits - 1. Throws std::invalid_argument outside the range.
int dac_max_code(int bits);
// Largest signed ADC code, A = 2^(bits-1) - 1 (codes -A..A). Throws outside the range.
int adc_max_code(int bits);
// Largest cell level, L - 1 = 2^bits_per_cell - 1 (signed weights use -(L-1)..L-1). Throws.
int cell_max_level(int bits_per_cell);

// The ADC's quantizer on a value already in LSB (i / full_scale * A, plus any offset): clip to
// [-A, A], then round half away from zero. Templated so that the tile (float currents) and the
// compiler (exact currents in double) share it; both instantiations round like std::round.
template <class T>
inline T adc_quantize(T x_lsb, T a) {
  const T clipped = std::min(std::max(x_lsb, -a), a);  // std::max/min: NaN passes through
  const T t = std::trunc(clipped);
  return t + std::copysign(std::fabs(clipped - t) >= T(0.5) ? T(1) : T(0), clipped);
}

// ---- Sign-split (multi-phase) reads (docs/nonidealities.md, "Multi-phase reads") -------------
// A phase converts the current of one side of the pairs (g+ or g-), unipolar, with the converter's
// whole range as counts: code = round(clamp(i / full_scale * U + offset, 0, U)), U = 2^bits - 1
// (a counter, as HERMES's CCO ADCs). The digital unit subtracts the sides' codes and rescales the
// difference to the one-shot ADC's units: (c+ - c-) * A / U, exact in double, one float rounding.
int adc_max_count(int bits);  // U = 2^bits - 1; throws outside [kAdcBitsMin, kAdcBitsMax]
template <class T>
inline T adc_count(T x_lsb, T u) {
  const T clipped = std::min(std::max(x_lsb, T(0)), u);
  const T t = std::trunc(clipped);
  return t + (clipped - t >= T(0.5) ? T(1) : T(0));
}
Eigen::MatrixXi adc_counts(const Eigen::MatrixXd& currents, double full_scale, int bits);
template <class Counts>
inline Eigen::MatrixXf phase_difference(const Counts& pos, const Counts& neg, int bits) {
  const double k = double(adc_max_code(bits)) / double(adc_max_count(bits));
  return ((pos.template cast<double>() - neg.template cast<double>()) * k).template cast<float>();
}

// Signed ADC of currents in double (the compiler's exact slice currents): codes =
// adc_quantize(i / full_scale * A, A) as integers. Throws for bits outside the range.
Eigen::MatrixXi adc_codes(const Eigen::MatrixXd& currents, double full_scale, int bits);

// Unsigned input DAC: code in [0, 2^bits - 1] -> v = code / (2^bits - 1).
struct DacSpec {
  int bits;  // 1..24 (codes must be exact in float)
};

// Largest DAC code, 2^bits - 1. Throws std::invalid_argument for bits outside [1, 24].
int dac_max_code(const DacSpec& spec);

// Codes (any float values; a real DAC takes integers, so codes are rounded, then clipped to
// [0, 2^bits - 1]) to normalized voltages. If `clipped` is given, the number of codes outside the
// range is ADDED to it.
Eigen::MatrixXf dac_voltages(const Eigen::MatrixXf& codes, const DacSpec& spec,
                             long* clipped = nullptr);

// The integer codes a DAC takes: rounded, then clipped to [0, 2^bits - 1] (clipped counted as in
// dac_voltages).
Eigen::MatrixXi dac_code_ints(const Eigen::MatrixXf& codes, const DacSpec& spec, long* clipped = nullptr);

// ---- Bit-serial inputs (docs/nonidealities.md, "Input encodings") -----------------------------
// Pass k of a bit-serial MVM drives the rows whose code has bit k set, at full read voltage
// (v = 1): the 0/1 matrix of that bit. The digital unit shifts and adds the ADC codes c_k of the b
// passes into the one-shot ADC's units, sum_k 2^k c_k / (2^b - 1): with one full scale for every
// pass, the sum of the passes' currents weighted by 2^k is Cmax times the one-shot current. The
// sum is exact in double and rounded to float once, so the tile and the compiler agree to the bit.
Eigen::MatrixXf bit_plane(const Eigen::MatrixXi& codes, int k);
template <class Codes>
inline void shift_add(Eigen::MatrixXd& acc, const Codes& plane_codes, int k) {
  if (acc.size() == 0) acc = Eigen::MatrixXd::Zero(plane_codes.rows(), plane_codes.cols());
  acc += std::ldexp(1.0, k) * plane_codes.template cast<double>();
}
inline Eigen::MatrixXf shift_add_result(const Eigen::MatrixXd& acc, int dac_bits) {
  return (acc / double(dac_max_code(dac_bits))).cast<float>();
}

// Signed column ADC: code = round(clamp(i / full_scale * A + offset_c, -A, A)),
// A = 2^(bits-1) - 1. One LSB = full_scale / A. offset_c is column c's static offset in LSB (a
// comparator/reference offset, as an untrimmed chip has); firmware trims it out digitally.
struct AdcSpec {
  int bits;          // 2..24
  float full_scale;  // normalized current units, > 0
  // Per-column offsets in LSB for columns [0, cols) of the converted block, or nullptr for none.
  const Eigen::VectorXf* column_offset_lsb = nullptr;
};

// A = 2^(bits-1) - 1. Throws std::invalid_argument for bits outside [2, 24].
int adc_max_code(const AdcSpec& spec);

// Counts of a phase's unipolar currents (adc_count with the column offsets). Returns how many
// samples clipped (the offset-shifted value beyond [0, U]).
long adc_convert_counts(const Eigen::MatrixXf& currents, const AdcSpec& spec, Eigen::MatrixXf& counts);

// Converts `currents` into `codes` (resized to match). Returns how many samples clipped (the
// offset-shifted value beyond ±A). Throws std::invalid_argument if the offsets are fewer than
// the columns.
long adc_convert(const Eigen::MatrixXf& currents, const AdcSpec& spec, Eigen::MatrixXf& codes);

// The tile's digital unit after the (summed) ADC codes.
struct DigitalSpec {
  float acc_scale;        // y = acc * acc_scale + bias
  bool relu;              // y = max(y, 0)
  float out_quant_scale;  // output code = round(y / out_quant_scale), > 0
  int out_bits;           // unsigned output codes clipped to [0, 2^out_bits - 1] (1..24)
  bool output_int32;      // last layer: no clip to out_bits, only to the int32 range
  int out_zero = 0;       // code of y = 0 (unsigned codes only): code = round(y / scale) + out_zero
  float act_min = -std::numeric_limits<float>::infinity();  // y clamped to [act_min, act_max]
  float act_max = std::numeric_limits<float>::infinity();   //   before quantization
  Activation act = {};  // applied to y before the clamp; its channels are acc's columns
  const float* column_scale = nullptr;  // per output column: y = acc * acc_scale * column_scale[j] + bias
};

// acc: (batch x cols) sum of ADC codes over the row slices of the layer. bias: cols floats, or
// nullptr for none. Writes `out` (batch x cols) as float-valued integers and returns how many
// outputs were clipped (below 0 or above 2^out_bits - 1; or outside int32 with output_int32).
long digital_unit(const Eigen::MatrixXf& acc, const float* bias, const DigitalSpec& spec,
                  Eigen::MatrixXf& out);

}  // namespace aimc::num
