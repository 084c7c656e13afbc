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

class PwmDriver final : public InputDriver {
 public:
  PwmDriver(const config::DacConfig& c, int array_rows)
      : t_ps_(block_math::ns_to_ps(block_math::pow2(c.bits) * c.t_lsb_ns)),
        e_row_pj_(c.e_conv_pj * c.bits / c.ref_bits),
        area_um2_(array_rows * c.area_um2 * c.bits / c.ref_bits), bits_(c.bits), t_lsb_ns_(c.t_lsb_ns) {}
  const char* kind() const override { return "pwm"; }
  InputEncoding encoding() const override { return {InputEncoding::Mode::duration, bits_, t_lsb_ns_}; }
  BlockCost cost(const BlockOp& op) const override { return {t_ps_, op.rows * e_row_pj_ * 1e-12}; }
  double area_um2() const override { return area_um2_; }

 private:
  uint64_t t_ps_;
  double e_row_pj_, area_um2_;
  int bits_;
  double t_lsb_ns_;
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
