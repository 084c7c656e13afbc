// Array read kind `ohmic`: every cell of the used block conducts v * G for t_read.
//   t = t_read, e = sum over cells of v^2 G t_read  (tile.array.*; docs/chip-model.md, "Block kinds")
//   area = rows * cols * 2 cells * cell_area (a weight is a differential pair)
#include "chip/tile_blocks.h"

namespace aimc::chip {
namespace {

class OhmicArrayRead final : public ArrayRead {
 public:
  OhmicArrayRead(const config::ArrayConfig& a, const config::DeviceConfig& d)
      : t_ps_(block_math::ns_to_ps(a.t_read_ns)), v_read_v_(a.v_read_v), g_max_ns_(d.g_max_ns),
        t_read_ns_(a.t_read_ns), area_um2_(2.0 * a.rows * a.cols * a.cell_area_um2) {}
  const char* kind() const override { return "ohmic"; }
  double area_um2() const override { return area_um2_; }
  BlockCost cost(const BlockOp& op) const override {
    return {t_ps_, op.sum_v2g * v_read_v_ * v_read_v_ * (g_max_ns_ * 1e-9) * (t_read_ns_ * 1e-9)};
  }

 private:
  uint64_t t_ps_;
  double v_read_v_, g_max_ns_, t_read_ns_, area_um2_;
};

}  // namespace

const BlockKind<ArrayRead>& array_read_kind_ohmic() {
  static const BlockKind<ArrayRead> kind = {
      "ohmic", "cell current v * G for t_read, energy v^2 G t_read per cell",
      [](const config::PlatformConfig& c) -> std::unique_ptr<ArrayRead> {
        return std::make_unique<OhmicArrayRead>(c.tile.array, c.tile.device);
      }};
  return kind;
}

}  // namespace aimc::chip
