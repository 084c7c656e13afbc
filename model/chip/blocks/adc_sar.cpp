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

class SarAdc final : public AdcBank {
 public:
  SarAdc(const config::AdcConfig& c, int array_cols)
      : count_(static_cast<int>(ceil_div(static_cast<uint64_t>(array_cols), static_cast<uint64_t>(c.share)))) {
    const double scale = block_math::pow2((c.bits - c.ref_bits) / 4.0);
    const double t_ns = c.bits == c.ref_bits ? c.t_conv_ns : c.t_conv_ns * (c.bits + 2) / (c.ref_bits + 2);
    t_conv_ps_ = block_math::ns_to_ps(t_ns);
    e_conv_pj_ = std::max(c.e_conv_pj * scale, block_math::adc_energy_bound_j(c.bits, 1e9 / t_ns) * 1e12);
    area_um2_ = count_ * c.area_um2 * scale;
    p_static_w_ = count_ * c.p_static_uw * 1e-6 * scale;
  }
  const char* kind() const override { return "sar"; }
  int count() const override { return count_; }
  double e_conv_j() const override { return e_conv_pj_ * 1e-12; }
  double area_um2() const override { return area_um2_; }
  double p_static_w() const override { return p_static_w_; }
  BlockCost cost(const BlockOp& op) const override {
    const uint64_t rounds = ceil_div(static_cast<uint64_t>(op.cols), static_cast<uint64_t>(count_));
    return {rounds * t_conv_ps_, op.cols * e_conv_pj_ * 1e-12};
  }

 private:
  int count_;
  uint64_t t_conv_ps_ = 0;
  double e_conv_pj_ = 0, area_um2_ = 0, p_static_w_ = 0;
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
