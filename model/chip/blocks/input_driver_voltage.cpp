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

class VoltageDac final : public LawInputDriver {
 public:
  VoltageDac(const config::DacConfig& c, int array_rows)
      : LawInputDriver({InputEncoding::Mode::amplitude, c.bits, 0.0},
                       block_math::ns_to_ps(c.bits == c.ref_bits ? c.t_conv_ns
                                                                 : c.t_conv_ns * (c.bits + 1) / (c.ref_bits + 1)),
                       c.e_conv_pj * block_math::pow2(c.bits - c.ref_bits), array_rows * c.area_um2 * c.bits / c.ref_bits) {}
  const char* kind() const override { return "voltage"; }
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
