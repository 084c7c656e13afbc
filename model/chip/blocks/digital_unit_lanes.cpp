// Digital unit kind `lanes`: `lanes` element operations per clock cycle.
//   t = ceil(ops / lanes) cycles, e = ops * e_op  (tile.digital.*; docs/chip-model.md, "Block kinds")
//   area = lanes * lane_area
#include "chip/tile_blocks.h"

#include <cmath>

namespace aimc::chip {
namespace {

class LaneDigitalUnit final : public DigitalUnit {
 public:
  explicit LaneDigitalUnit(const config::DigitalConfig& c)
      : lanes_(c.lanes), clock_mhz_(c.clock_mhz), e_op_pj_(c.e_op_pj), area_um2_(c.lanes * c.lane_area_um2) {}
  const char* kind() const override { return "lanes"; }
  double area_um2() const override { return area_um2_; }
  BlockCost cost(const BlockOp& op) const override {
    const uint64_t cycles =
        block_math::ceil_div(static_cast<uint64_t>(op.element_ops), static_cast<uint64_t>(lanes_));
    return {static_cast<uint64_t>(std::llround(cycles * 1e6 / clock_mhz_)),
            static_cast<double>(op.element_ops) * e_op_pj_ * 1e-12};
  }

 private:
  int lanes_;
  double clock_mhz_, e_op_pj_, area_um2_;
};

}  // namespace

const BlockKind<DigitalUnit>& digital_unit_kind_lanes() {
  static const BlockKind<DigitalUnit> kind = {
      "lanes", "`lanes` element operations per clock cycle",
      [](const config::PlatformConfig& c) -> std::unique_ptr<DigitalUnit> {
        return std::make_unique<LaneDigitalUnit>(c.tile.digital);
      }};
  return kind;
}

}  // namespace aimc::chip
