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

// (2^b - 1) / (2^r - 1): the comparators against the reference converter's.
double comparators(const config::AdcConfig& c) { return (std::exp2(c.bits) - 1.0) / (std::exp2(c.ref_bits) - 1.0); }

class FlashAdc final : public LawAdcBank {
 public:
  FlashAdc(const config::AdcConfig& c, int array_cols)
      : LawAdcBank(c, static_cast<int>(ceil_div(static_cast<uint64_t>(array_cols), static_cast<uint64_t>(c.share))),
                   c.t_conv_ns, c.e_conv_pj * comparators(c), comparators(c)) {}
  const char* kind() const override { return "flash"; }
  BlockCost cost(const BlockOp& op) const override { return {rounds_ps(op.cols), energy_j(op.cols)}; }
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
