// One tile's MVM, value only (no time, no energy): DAC -> crossbar (with read noise) -> ADC.
// Steps (3) to (6) of docs/nonidealities.md; step (7), the digital unit, runs after the partial
// sums of all row slices of a layer are added (converters.h: digital_unit).
#pragma once

#include <Eigen/Core>

#include "numerics/converters.h"
#include "numerics/crossbar.h"
#include "numerics/rng.h"

namespace aimc::num {

struct TileMvmResult {
  Eigen::MatrixXf adc_codes;  // (batch x cols_used) signed ADC codes, float-valued integers
  long adc_clipped = 0;       // samples with |i| > full_scale
  long dac_clipped = 0;       // input codes outside [0, 2^dac_bits - 1]
  MvmStats stats;             // this call only
};

// in_codes: (batch x rows_used) unsigned DAC codes. read_rng: the tile's "read/tile<N>" stream,
// or nullptr for noiseless reads.
// row0/col0: the block's place on the array (see Crossbar::mvm); adc offsets index the block's columns.
TileMvmResult tile_mvm(const Crossbar& xbar, const Eigen::MatrixXf& in_codes, int rows_used,
                       int cols_used, const DacSpec& dac, const AdcSpec& adc, Rng* read_rng,
                       int row0 = 0, int col0 = 0);

}  // namespace aimc::num
