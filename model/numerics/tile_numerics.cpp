#include "numerics/tile_numerics.h"

#include <stdexcept>
#include <string>

namespace aimc::num {

TileMvmResult tile_mvm(const Crossbar& xbar, const Eigen::MatrixXf& in_codes, int rows_used,
                       int cols_used, const DacSpec& dac, const AdcSpec& adc, Rng* read_rng,
                       int row0, int col0, const TileRead& read) {
  if (read.phases != 1 && read.phases != 2 && read.phases != 4)
    throw std::invalid_argument("tile_mvm: read phases must be 1, 2 or 4, got " + std::to_string(read.phases));
  if (read.phases > 1 && read.coding != InputCoding::one_shot)
    throw std::invalid_argument("tile_mvm: a sign-split read takes one-shot inputs");
  TileMvmResult res;
  Eigen::MatrixXf currents;
  if (read.coding == InputCoding::one_shot && read.phases == 1) {
    const Eigen::MatrixXf v = dac_voltages(in_codes, dac, &res.dac_clipped);             // (3)
    xbar.mvm(v, rows_used, cols_used, currents, read_rng, &res.stats, row0, col0);        // (4), (5)
    res.adc_clipped = adc_convert(currents, adc, res.adc_codes);                          // (6)
    return res;
  }
  if (read.coding == InputCoding::one_shot) {
    // Sign-split: (4) to (6) once per side of the pairs, each with its noise and its counts.
    const Eigen::MatrixXf v = dac_voltages(in_codes, dac, &res.dac_clipped);
    Eigen::MatrixXf pos, neg;
    xbar.mvm_side(v, rows_used, cols_used, Crossbar::Side::pos, currents, read_rng, &res.stats, row0, col0);
    res.adc_clipped += adc_convert_counts(currents, adc, pos);
    xbar.mvm_side(v, rows_used, cols_used, Crossbar::Side::neg, currents, read_rng, &res.stats, row0, col0);
    res.adc_clipped += adc_convert_counts(currents, adc, neg);
    if (read.phases == 4) res.stats.vectors += 2 * static_cast<long>(in_codes.rows());  // no row driven
    res.adc_codes = phase_difference(pos, neg, adc.bits);
    return res;
  }
  // Bit-serial: (3) to (6) once per bit of the code, each read with its own noise and its own
  // conversion, then the shift-and-add of the digital unit.
  const Eigen::MatrixXi codes = dac_code_ints(in_codes, dac, &res.dac_clipped);
  Eigen::MatrixXd acc;
  Eigen::MatrixXf plane_codes;
  for (int k = 0; k < dac.bits; ++k) {
    xbar.mvm(bit_plane(codes, k), rows_used, cols_used, currents, read_rng, &res.stats, row0, col0);
    res.adc_clipped += adc_convert(currents, adc, plane_codes);
    shift_add(acc, plane_codes, k);
  }
  res.adc_codes = acc.size() ? shift_add_result(acc, dac.bits) : Eigen::MatrixXf(in_codes.rows(), cols_used);
  return res;
}

}  // namespace aimc::num
