// Input driver kind `bit_serial`: one bit of the input code per pass, least significant first, as
// ISAAC's 1-bit DACs (reference-chips 5c "ISAAC 1-bit DAC"). Each pass drives the rows whose bit is
// set at v_read, the array is read and the ADC converts every column's partial sum; the digital
// unit shifts and adds the b conversions (numerics/tile_numerics.h: the quantization error is
// that of b conversions, not of one). From the reference DAC (ref_bits r: t_ref, e_ref, a_ref;
// tile.dac.*), the voltage kind's law at one bit:
//   t_pass = t_ref * 2 / (r + 1)               settling to half an LSB of one bit
//   e_row  = e_ref * 2^(1 - r)                 per row driven per pass (5c MNSIM menu: the power
//                                              halves per bit; at 8 b reference 0.5 pJ -> 3.9 fJ)
//   area   = array.rows * a_ref / r            one 1-bit driver per row (5c ISAAC 0.166 um^2)
// One vector: b passes (chip::mvm_time_ps), each with the array read and the ADC rounds, so the
// input time is proportional to b; energy n * e_row per pass (every used row, whatever its bit:
// an upper bound, as the voltage kind).
#include "chip/tile_blocks.h"

namespace aimc::chip {
namespace {

class BitSerialDriver final : public LawInputDriver {
 public:
  BitSerialDriver(const config::DacConfig& c, int array_rows)
      : LawInputDriver({InputEncoding::Mode::bit_serial, c.bits, 0.0},
                       block_math::ns_to_ps(c.ref_bits == 1 ? c.t_conv_ns : c.t_conv_ns * 2.0 / (c.ref_bits + 1)),
                       c.e_conv_pj * block_math::pow2(1 - c.ref_bits), array_rows * c.area_um2 / c.ref_bits) {}
  const char* kind() const override { return "bit_serial"; }
};

}  // namespace

const BlockKind<InputDriver>& input_driver_kind_bit_serial() {
  static const BlockKind<InputDriver> kind = {
      "bit_serial",
      "one input bit per pass through 1-bit drivers; one ADC conversion per bit, shift-and-add",
      [](const config::PlatformConfig& c) -> std::unique_ptr<InputDriver> {
        return std::make_unique<BitSerialDriver>(c.tile.dac, c.tile.array.rows);
      }};
  return kind;
}

}  // namespace aimc::chip
