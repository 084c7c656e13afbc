// ADC kind `flash`: 2^b - 1 comparators decide all bits in one clock. ceil(array.cols / share)
// converters, each converting its columns one after another. From the reference converter
// (ref_bits r; docs/chip-model.md, "Block kinds"), at b bits:
//   t_conv = t_ref                             one comparison, whatever the bits
//   e_conv = max(e_ref * k, bound), area, static = count * (a_ref, p_ref) * k,
//   k = (2^b - 1) / (2^r - 1)                  D: every comparator fires each conversion and takes
//                                              its share of area and bias
// One vector of c columns: t = ceil(c / count) * t_conv, e = c * e_conv.
#include "chip/tile_blocks.h"

#include <algorithm>
#include <cmath>

namespace aimc::chip {
namespace {

using block_math::ceil_div;

class FlashAdc final : public AdcBank {
 public:
  FlashAdc(const config::AdcConfig& c, int array_cols)
      : count_(static_cast<int>(ceil_div(static_cast<uint64_t>(array_cols), static_cast<uint64_t>(c.share)))),
        t_conv_ps_(block_math::ns_to_ps(c.t_conv_ns)) {
    const double k = (std::exp2(c.bits) - 1.0) / (std::exp2(c.ref_bits) - 1.0);
    e_conv_pj_ = std::max(c.e_conv_pj * k, block_math::adc_energy_bound_j(c.bits, 1e9 / c.t_conv_ns) * 1e12);
    area_um2_ = count_ * c.area_um2 * k;
    p_static_w_ = count_ * c.p_static_uw * 1e-6 * k;
  }
  const char* kind() const override { return "flash"; }
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
  uint64_t t_conv_ps_;
  double e_conv_pj_ = 0, area_um2_ = 0, p_static_w_ = 0;
};

}  // namespace

const BlockKind<AdcBank>& adc_kind_flash() {
  static const BlockKind<AdcBank> kind = {
      "flash", "2^b - 1 comparators: one clock per conversion, ceil(cols / share) converters taking their columns in turn",
      [](const config::PlatformConfig& c) -> std::unique_ptr<AdcBank> {
        return std::make_unique<FlashAdc>(c.tile.adc, c.tile.array.cols);
      }};
  return kind;
}

}  // namespace aimc::chip
