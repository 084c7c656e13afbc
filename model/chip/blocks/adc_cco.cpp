// ADC kind `cco`: current-controlled oscillator and counter (IBM HERMES, reference-chips 3a/3b: one
// CCO ADC per column, 300 ps/LSB). The column current drives an oscillator whose cycles are counted
// while the array integrates, so a conversion ends with the integration when the count window
// (2^b LSB periods) fits in it. ceil(array.cols / share) converters; a converter that serves
// several columns takes them in turn, and only its first column overlaps the integration. From the
// reference converter (ref_bits r; docs/chip-model.md, "Block kinds"), at b bits:
//   t_conv = t_ref * 2^(b - r)                 the count window
//   e_conv = max(e_ref * 2^(b - r), bound)     the oscillator runs for the window (D)
//   area, static = count * (a_ref, p_ref) * (b / r)
//                                              ASSUMPTION: an oscillator of fixed size and a b-bit
//                                              counter
// One vector of c columns: t = max(0, ceil(c / count) * t_conv - tile.array.t_read_ns) (the time
// beyond the array's integration), e = c * e_conv.
#include "chip/tile_blocks.h"

#include <algorithm>

namespace aimc::chip {
namespace {

using block_math::ceil_div;

class CcoAdc final : public AdcBank {
 public:
  CcoAdc(const config::AdcConfig& c, const config::ArrayConfig& a)
      : count_(static_cast<int>(ceil_div(static_cast<uint64_t>(a.cols), static_cast<uint64_t>(c.share)))),
        overlap_ps_(block_math::ns_to_ps(a.t_read_ns)) {
    const double t_ns = c.t_conv_ns * block_math::pow2(c.bits - c.ref_bits);
    t_conv_ps_ = block_math::ns_to_ps(t_ns);
    e_conv_pj_ = std::max(c.e_conv_pj * block_math::pow2(c.bits - c.ref_bits),
                         block_math::adc_energy_bound_j(c.bits, 1e9 / t_ns) * 1e12);
    const double per_bit = static_cast<double>(c.bits) / c.ref_bits;
    area_um2_ = count_ * c.area_um2 * per_bit;
    p_static_w_ = count_ * c.p_static_uw * 1e-6 * per_bit;
  }
  const char* kind() const override { return "cco"; }
  int count() const override { return count_; }
  double e_conv_j() const override { return e_conv_pj_ * 1e-12; }
  double area_um2() const override { return area_um2_; }
  double p_static_w() const override { return p_static_w_; }
  BlockCost cost(const BlockOp& op) const override {
    const uint64_t rounds = ceil_div(static_cast<uint64_t>(op.cols), static_cast<uint64_t>(count_));
    const uint64_t busy = rounds * t_conv_ps_;
    return {busy > overlap_ps_ ? busy - overlap_ps_ : 0, op.cols * e_conv_pj_ * 1e-12};
  }

 private:
  int count_;
  uint64_t overlap_ps_, t_conv_ps_ = 0;
  double e_conv_pj_ = 0, area_um2_ = 0, p_static_w_ = 0;
};

}  // namespace

const BlockKind<AdcBank>& adc_kind_cco() {
  static const BlockKind<AdcBank> kind = {
      "cco", "current-controlled oscillator and counter, converting during the array's integration",
      [](const config::PlatformConfig& c) -> std::unique_ptr<AdcBank> {
        return std::make_unique<CcoAdc>(c.tile.adc, c.tile.array);
      }};
  return kind;
}

}  // namespace aimc::chip
