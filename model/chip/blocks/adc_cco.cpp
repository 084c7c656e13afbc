// ADC kind `cco`: current-controlled oscillator and counter (IBM HERMES, reference-chips 3a/3b: one
// CCO ADC per column, 300 ps/LSB). The column current drives an oscillator whose cycles are counted
// while the array integrates, so a conversion ends with the integration when the count window
// (2^b LSB periods) fits in it. ceil(array.cols / share) converters; a converter that serves
// several columns takes them in turn, and only its first column overlaps the integration. From the
// reference converter (ref_bits r; docs/chip-model.md, "Block kinds"), at b bits:
//   t_conv = t_ref * 2^(b - r)                 the count window
//   e_conv = max(e_ref * 2^(b - r), bound)     the oscillator runs for the window (D)
//   area, static = count * (a_ref, p_ref) * (b / r)
//                                              ASSUMPTION: an oscillator of fixed size and a b-bit
//                                              counter
// One vector of c columns: t = max(0, ceil(c / count) * t_conv - t_int) (the time beyond the
// array's integration), e = c * e_conv, where t_int is the integration the count overlaps:
// tile.array.t_read_ns for amplitude-coded inputs, the input driver's read window 2^bits * t_lsb_ns
// for pulse-width inputs (HERMES, 3a/3b: the CCOs count while the 128 ns of 8-bit PWM integrate;
// t_read_ns is not the read time there, the window is).
#include "chip/tile_blocks.h"

#include <algorithm>

namespace aimc::chip {
namespace {

using block_math::ceil_div;

class CcoAdc final : public LawAdcBank {
 public:
  CcoAdc(const config::AdcConfig& c, const config::ArrayConfig& a)
      : LawAdcBank(c, static_cast<int>(ceil_div(static_cast<uint64_t>(a.cols), static_cast<uint64_t>(c.share))),
                   c.t_conv_ns * block_math::pow2(c.bits - c.ref_bits),
                   c.e_conv_pj * block_math::pow2(c.bits - c.ref_bits), static_cast<double>(c.bits) / c.ref_bits),
        t_read_ps_(block_math::ns_to_ps(a.t_read_ns)) {}
  const char* kind() const override { return "cco"; }
  BlockCost cost(const BlockOp& op) const override {
    const uint64_t busy = rounds_ps(op.cols);
    const uint64_t overlap = op.enc.mode == InputEncoding::Mode::duration
                                 ? block_math::ns_to_ps(block_math::pow2(op.enc.bits) * op.enc.t_lsb_ns)
                                 : t_read_ps_;
    return {busy > overlap ? busy - overlap : 0, energy_j(op.cols)};
  }

 private:
  uint64_t t_read_ps_;
};

}  // namespace

const BlockKind<AdcBank>& adc_kind_cco() {
  static const BlockKind<AdcBank> kind = {
      "cco", "current-controlled oscillator and counter, converting during the array's integration",
      [](const config::PlatformConfig& c) -> std::unique_ptr<AdcBank> {
        return std::make_unique<CcoAdc>(c.tile.adc, c.tile.array);
      }};
  return kind;
}

}  // namespace aimc::chip
