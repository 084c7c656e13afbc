// Digital unit kind `lanes`: `lanes` element operations per clock cycle, each costing what its
// kind of operation costs (tile.digital.*; docs/chip-model.md, "Block kinds"):
//   t = ceil(ops / lanes) cycles, e = ops * e(work)
//   e(requantize) = e_op_pj, e(compare) = e_compare_pj, e(accumulate) = e_accumulate_pj,
//   e(mac) = e_mac_pj, e(float_op) = e_float_op_pj      (the preset's figures: reference-chips 5a)
//   area = lanes * lane_area, static = p_static_uw while the tile is active
#include "chip/tile_blocks.h"

#include <array>
#include <cmath>

namespace aimc::chip {
namespace {

class LaneDigitalUnit final : public DigitalUnit {
 public:
  explicit LaneDigitalUnit(const config::DigitalConfig& c)
      : lanes_(c.lanes),
        clock_mhz_(c.clock_mhz),
        e_pj_{c.e_op_pj, c.e_compare_pj, c.e_accumulate_pj, c.e_mac_pj, c.e_float_op_pj},
        area_um2_(c.lanes * c.lane_area_um2),
        p_static_w_(c.p_static_uw * 1e-6) {}
  const char* kind() const override { return "lanes"; }
  double area_um2() const override { return area_um2_; }
  double p_static_w() const override { return p_static_w_; }
  BlockCost cost(const BlockOp& op) const override {
    const uint64_t cycles =
        block_math::ceil_div(static_cast<uint64_t>(op.element_ops), static_cast<uint64_t>(lanes_));
    return {static_cast<uint64_t>(std::llround(cycles * 1e6 / clock_mhz_)),
            static_cast<double>(op.element_ops) * e_pj_[static_cast<size_t>(op.work)] * 1e-12};
  }

 private:
  int lanes_;
  double clock_mhz_;
  std::array<double, 5> e_pj_;  // by DigitalWork
  double area_um2_, p_static_w_;
};

}  // namespace

const BlockKind<DigitalUnit>& digital_unit_kind_lanes() {
  static const BlockKind<DigitalUnit> kind = {
      "lanes", "`lanes` element operations per clock cycle, each at the energy of its kind",
      [](const config::PlatformConfig& c) -> std::unique_ptr<DigitalUnit> {
        return std::make_unique<LaneDigitalUnit>(c.tile.digital);
      }};
  return kind;
}

}  // namespace aimc::chip
