// ADC kind `shared_column`: ceil(array.cols / share) ADCs, each converting its columns one after
// another (columns interleaved over the ADCs).
//   t = ceil(cols / count) * t_conv, e = cols * e_conv  (tile.adc.*; docs/chip-model.md, "Block kinds")
#include "chip/tile_blocks.h"

namespace aimc::chip {
namespace {

using block_math::ceil_div;

class SharedColumnAdc final : public AdcBank {
 public:
  SharedColumnAdc(const config::AdcConfig& c, int array_cols)
      : count_(static_cast<int>(ceil_div(static_cast<uint64_t>(array_cols), static_cast<uint64_t>(c.share)))),
        t_conv_ps_(block_math::ns_to_ps(c.t_conv_ns)), e_conv_pj_(c.e_conv_pj) {}
  const char* kind() const override { return "shared_column"; }
  int count() const override { return count_; }
  BlockCost cost(const BlockOp& op) const override {
    const uint64_t rounds = ceil_div(static_cast<uint64_t>(op.cols), static_cast<uint64_t>(count_));
    return {rounds * t_conv_ps_, op.cols * e_conv_pj_ * 1e-12};
  }

 private:
  int count_;
  uint64_t t_conv_ps_;
  double e_conv_pj_;
};

}  // namespace

const BlockKind<AdcBank>& adc_kind_shared_column() {
  static const BlockKind<AdcBank> kind = {
      "shared_column", "ceil(cols / share) ADCs, each converting its columns in turn",
      [](const config::PlatformConfig& c) -> std::unique_ptr<AdcBank> {
        return std::make_unique<SharedColumnAdc>(c.tile.adc, c.tile.array.cols);
      }};
  return kind;
}

}  // namespace aimc::chip
