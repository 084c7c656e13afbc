// Input driver kind `voltage`: one voltage DAC per word line, all converting at once. From the
// reference DAC (ref_bits r: t_ref, e_ref, a_ref; docs/chip-model.md, "Block kinds"), at b bits:
//   t_conv = t_ref * (b + 1) / (r + 1)         D: settling to half an LSB takes (b + 1) ln 2 time
//                                              constants
//   e_conv = e_ref * 2^(b - r)                 reference-chips 5c, MNSIM DAC menu: the power doubles
//                                              per bit (1 b 3.9 ... 6 b 124.8 uW at 1 GS/s)
//   area = array.rows * a_ref * b / r          D: an R-2R ladder has two resistors per bit (5c,
//                                              CiMLoop R-2R ladder); a_ref from 5c's ISAAC 1-bit DAC
// One vector driving n rows: t = t_conv, e = n * e_conv.
#include "chip/tile_blocks.h"

namespace aimc::chip {
namespace {

class VoltageDac final : public InputDriver {
 public:
  VoltageDac(const config::DacConfig& c, int array_rows)
      : t_ps_(block_math::ns_to_ps(c.bits == c.ref_bits ? c.t_conv_ns
                                                           : c.t_conv_ns * (c.bits + 1) / (c.ref_bits + 1))),
        e_conv_pj_(c.e_conv_pj * block_math::pow2(c.bits - c.ref_bits)),
        area_um2_(array_rows * c.area_um2 * c.bits / c.ref_bits), bits_(c.bits) {}
  const char* kind() const override { return "voltage"; }
  InputEncoding encoding() const override { return {InputEncoding::Mode::amplitude, bits_, 0.0}; }
  BlockCost cost(const BlockOp& op) const override { return {t_ps_, op.rows * e_conv_pj_ * 1e-12}; }
  double area_um2() const override { return area_um2_; }

 private:
  uint64_t t_ps_;
  double e_conv_pj_, area_um2_;
  int bits_;
};

}  // namespace

const BlockKind<InputDriver>& input_driver_kind_voltage() {
  static const BlockKind<InputDriver> kind = {
      "voltage", "one voltage DAC per word line, all converting at once",
      [](const config::PlatformConfig& c) -> std::unique_ptr<InputDriver> {
        return std::make_unique<VoltageDac>(c.tile.dac, c.tile.array.rows);
      }};
  return kind;
}

}  // namespace aimc::chip
