#include "numerics/tile_numerics.h"

namespace aimc::num {

TileMvmResult tile_mvm(const Crossbar& xbar, const Eigen::MatrixXf& in_codes, int rows_used,
                       int cols_used, const DacSpec& dac, const AdcSpec& adc, Rng* read_rng,
                       int row0, int col0) {
  TileMvmResult res;
  const Eigen::MatrixXf v = dac_voltages(in_codes, dac, &res.dac_clipped);  // (3)
  Eigen::MatrixXf currents;
  xbar.mvm(v, rows_used, cols_used, currents, read_rng, &res.stats, row0, col0);        // (4), (5)
  res.adc_clipped = adc_convert(currents, adc, res.adc_codes);             // (6)
  return res;
}

}  // namespace aimc::num
