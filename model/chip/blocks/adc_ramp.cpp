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

class RampAdc final : public AdcBank {
 public:
  RampAdc(const config::AdcConfig& c, int array_cols) : count_(array_cols) {
    const double t_ns = c.t_conv_ns * block_math::pow2(c.bits - c.ref_bits);
    t_conv_ps_ = block_math::ns_to_ps(t_ns);
    e_conv_pj_ = std::max(c.e_conv_pj * block_math::pow2(c.bits - c.ref_bits),
                         block_math::adc_energy_bound_j(c.bits, 1e9 / t_ns) * 1e12);
    const double per_bit = static_cast<double>(c.bits) / c.ref_bits;
    area_um2_ = count_ * c.area_um2 * per_bit;
    p_static_w_ = count_ * c.p_static_uw * 1e-6 * per_bit;
  }
  const char* kind() const override { return "ramp"; }
  int count() const override { return count_; }
  double e_conv_j() const override { return e_conv_pj_ * 1e-12; }
  double area_um2() const override { return area_um2_; }
  double p_static_w() const override { return p_static_w_; }
  BlockCost cost(const BlockOp& op) const override { return {op.cols > 0 ? t_conv_ps_ : 0, op.cols * e_conv_pj_ * 1e-12}; }

 private:
  int count_;
  uint64_t t_conv_ps_ = 0;
  double e_conv_pj_ = 0, area_um2_ = 0, p_static_w_ = 0;
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
