// Input driver kind `pwm`: the code is a pulse length, as on IBM's HERMES and speech chips
// (reference-chips 3a "Input encoding": 8-bit PWM at 1 ns/LSB, 5c "IBM PWM (duration) input": a
// shared counter, no per-row DAC). Every driven row sees v_read for code * t_lsb inside a read
// window of 2^b steps; a per-row comparator against the shared b-bit counter ends its pulse.
// From the reference driver (ref_bits r: e_ref, a_ref; tile.dac.*), at b bits:
//   t = 2^b * t_lsb                            the window: every pulse fits (the array integrates
//                                              during it; its own time is the line settling)
//   e_row = e_ref * b / r                      D: a b-bit comparator per row toggles once per
//                                              window; its energy grows with its width
//   area = array.rows * a_ref * b / r          D: a b-bit comparator and a driver per row
// One vector driving n rows: t, n * e_row. The array's cell energy follows each pulse's length
// (sum over cells of v_read^2 G code t_lsb; chip/blocks/array_read_ohmic.cpp). The value the
// cells integrate is that of a voltage DAC with the same code (both ideal and linear here), so the
// numerics are those of the voltage kind.
#include "chip/tile_blocks.h"

namespace aimc::chip {
namespace {

class PwmDriver final : public LawInputDriver {
 public:
  PwmDriver(const config::DacConfig& c, int array_rows)
      : LawInputDriver({InputEncoding::Mode::duration, c.bits, c.t_lsb_ns},
                       block_math::ns_to_ps(block_math::pow2(c.bits) * c.t_lsb_ns), c.e_conv_pj * c.bits / c.ref_bits,
                       array_rows * c.area_um2 * c.bits / c.ref_bits) {}
  const char* kind() const override { return "pwm"; }
};

}  // namespace

const BlockKind<InputDriver>& input_driver_kind_pwm() {
  static const BlockKind<InputDriver> kind = {
      "pwm", "pulse-width inputs: code * t_lsb at v_read in a window of 2^bits t_lsb (HERMES)",
      [](const config::PlatformConfig& c) -> std::unique_ptr<InputDriver> {
        return std::make_unique<PwmDriver>(c.tile.dac, c.tile.array.rows);
      }};
  return kind;
}

}  // namespace aimc::chip
