// ADC kind `ramp`: single slope. One ramp (and counter) is shared by `share` columns; each column
// has its own comparator, which stops its count when the ramp crosses the column's voltage, so all
// columns of a vector convert at once, in one ramp of 2^b clock cycles (the shared ramp with
// comparators of IBM's speech chip, reference-chips 3c). From the reference converter (ref_bits r;
// docs/chip-model.md, "Block kinds"), at b bits:
//   t_conv = t_ref * 2^(b - r)                 2^b counts per ramp
//   e_conv = max(e_ref * 2^(b - r), bound)     per column: comparator and counter run for the whole
//                                              ramp (D: proportional to the ramp's length)
//   area, static = columns * (a_ref, p_ref) * (b / r)
//                                              ASSUMPTION: a comparator of fixed size and a counter
//                                              of b bits per column; the ramps' share is in a_ref
// One vector of c columns: t = t_conv (c > 0), e = c * e_conv.
#include "chip/tile_blocks.h"

#include <algorithm>

namespace aimc::chip {
namespace {

class RampAdc final : public LawAdcBank {
 public:
  RampAdc(const config::AdcConfig& c, int array_cols)
      : LawAdcBank(c, array_cols, c.t_conv_ns * block_math::pow2(c.bits - c.ref_bits),
                   c.e_conv_pj * block_math::pow2(c.bits - c.ref_bits), static_cast<double>(c.bits) / c.ref_bits) {}
  const char* kind() const override { return "ramp"; }
  BlockCost cost(const BlockOp& op) const override { return {op.cols > 0 ? t_conv_ps() : 0, energy_j(op.cols)}; }
};

}  // namespace

const BlockKind<AdcBank>& adc_kind_ramp() {
  static const BlockKind<AdcBank> kind = {
      "ramp", "single slope: a comparator per column on a shared ramp, every column at once in 2^b counts",
      [](const config::PlatformConfig& c) -> std::unique_ptr<AdcBank> {
        return std::make_unique<RampAdc>(c.tile.adc, c.tile.array.cols);
      }};
  return kind;
}

}  // namespace aimc::chip
