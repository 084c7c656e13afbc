#include "numerics/tile_numerics.h"

namespace aimc::num {

TileMvmResult tile_mvm(const Crossbar& xbar, const Eigen::MatrixXf& in_codes, int rows_used,
                       int cols_used, const DacSpec& dac, const AdcSpec& adc, Rng* read_rng,
                       int row0, int col0, InputCoding coding) {
  TileMvmResult res;
  Eigen::MatrixXf currents;
  if (coding == InputCoding::one_shot) {
    const Eigen::MatrixXf v = dac_voltages(in_codes, dac, &res.dac_clipped);             // (3)
    xbar.mvm(v, rows_used, cols_used, currents, read_rng, &res.stats, row0, col0);        // (4), (5)
    res.adc_clipped = adc_convert(currents, adc, res.adc_codes);                          // (6)
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
