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

// How the inputs reach the array: one read with v = code / Cmax (a voltage DAC, or a pulse width:
// the same value), or bit-serial (one read and one conversion per bit of the code, shifted and
// added: converters.h). adc_codes are in the one-shot ADC's units either way; stats add up the
// reads (bit-serial: b reads per vector, each of 0/1 inputs).
enum class InputCoding { one_shot, bit_serial };

// How the array is read: phases = 1 converts the pairs' differential current with the signed ADC;
// 2 or 4 (IBM HERMES's multi-phase reads) convert the g+ and g- sides in separate phases as
// unipolar counts and subtract them (converters.h, "Sign-split reads"). The 4-phase mode also
// splits the inputs' signs; the codes here are unsigned, so its two negative-input phases drive
// no row: they convert each column's offset twice and cancel exactly, and count as reads (stats).
// Sign-split reads take one-shot inputs only.
struct TileRead {
  InputCoding coding = InputCoding::one_shot;
  int phases = 1;  // 1, 2 or 4
};

// in_codes: (batch x rows_used) unsigned DAC codes. read_rng: the tile's "read/tile<N>" stream,
// or nullptr for noiseless reads.
// row0/col0: the block's place on the array (see Crossbar::mvm); adc offsets index the block's columns.
TileMvmResult tile_mvm(const Crossbar& xbar, const Eigen::MatrixXf& in_codes, int rows_used,
                       int cols_used, const DacSpec& dac, const AdcSpec& adc, Rng* read_rng,
                       int row0 = 0, int col0 = 0, const TileRead& read = {});

}  // namespace aimc::num
