// ADC kind `sar`: successive approximation, one bit per clock cycle. ceil(array.cols / share)
// converters, each converting its columns one after another. From the reference converter
// (ref_bits r: t_ref, e_ref, a_ref, p_ref; docs/chip-model.md, "Block kinds"), at b bits:
//   t_conv = t_ref * (b + 2) / (r + 2)        one cycle per bit plus sampling and reset
//                                              (reference-chips 5b, MNSIM 2.0: latency = (b + 2) / fs)
//   e_conv = max(e_ref * 2^((b - r) / 4), bound(b, 1 / t_conv))
//                                              a fit (within 6 %) of the scaled ISAAC SAR of 5b
//                                              (4 b 0.79 ... 10 b 2.38 pJ), never below the survey
//                                              bound (block_math::adc_energy_bound_j)
//   area, static = count * (a_ref, p_ref) * 2^((b - r) / 4)
//                                              ASSUMPTION: the capacitor array and comparator that
//                                              set the energy set the area and leakage too
// One vector of c columns: t = ceil(c / count) * t_conv, e = c * e_conv.
#include "chip/tile_blocks.h"

#include <algorithm>

namespace aimc::chip {
namespace {

using block_math::ceil_div;

class SarAdc final : public LawAdcBank {
 public:
  SarAdc(const config::AdcConfig& c, int array_cols)
      : LawAdcBank(c, static_cast<int>(ceil_div(static_cast<uint64_t>(array_cols), static_cast<uint64_t>(c.share))),
                   c.bits == c.ref_bits ? c.t_conv_ns : c.t_conv_ns * (c.bits + 2) / (c.ref_bits + 2),
                   c.e_conv_pj * block_math::pow2((c.bits - c.ref_bits) / 4.0),
                   block_math::pow2((c.bits - c.ref_bits) / 4.0)) {}
  const char* kind() const override { return "sar"; }
  BlockCost cost(const BlockOp& op) const override { return {rounds_ps(op.cols), energy_j(op.cols)}; }
};

}  // namespace

const BlockKind<AdcBank>& adc_kind_sar() {
  static const BlockKind<AdcBank> kind = {
      "sar", "successive approximation: (b + 2) cycles per conversion, ceil(cols / share) converters taking their columns in turn",
      [](const config::PlatformConfig& c) -> std::unique_ptr<AdcBank> {
        return std::make_unique<SarAdc>(c.tile.adc, c.tile.array.cols);
      }};
  return kind;
}

}  // namespace aimc::chip
