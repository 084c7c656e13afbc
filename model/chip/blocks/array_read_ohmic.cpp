// Array read kind `ohmic`: the driver charges the lines, then every cell of the used block conducts
// v * G for t_read (tile.array.*; docs/chip-model.md, "Block kinds"). With p = cell_pitch_um and
// c = c_wire_ff_per_um:
//   C_bl = array.rows * p * c                  a bit line spans every row of the array, used or not
//   C_wl = array.cols * 2 * p * c              a word line spans both cells of every pair
//                                              (c: reference-chips 5d "Wire capacitance", NeuroSim)
//   t = t_read + (adc.bits + 1) ln 2 * R * C_bl     (per pass of the input encoding and per phase
//                                              of a sign-split read, tile.array.read_phases: each
//                                              phase is a read of its own)
//                                              D: the bit line, charged through R (r_line_kohm),
//                                              settles to half an ADC LSB in (b + 1) ln 2 time
//                                              constants, then the cells integrate for t_read
//   e = sum over cells of v^2 G t_read         the V^2 G t of every cell read
//       (duration-coded inputs: sum over cells of v G * Cmax t_lsb * v_read^2: each cell
//        conducts at v_read for its pulse, code * t_lsb = v Cmax t_lsb; the time is then the
//        settling alone, the integration being the input driver's window)
//     + vectors * (2 * cols_used * C_bl + rows_used * C_wl) * v_read^2
//                                              D: per input vector every used bit line (two per
//                                              weight column, a differential pair) and every driven
//                                              word line charges to v_read once (whatever the
//                                              input code: an upper bound, as the DAC's energy per
//                                              driven line)
//   area = rows * cols * 2 cells * cell_area (a weight is a differential pair)
//   static = p_static_uw (the sense path of the array: sense amplifiers, references)
// With c = 0 or R = 0 (no line model) time and energy are exactly those of t_read and V^2 G t.
// IR drop along the lines (tile.array.ir_drop, r_wire_ohm_per_um) is a numerics effect, not a cost:
// it lowers the conductances the read sees (numerics/ir_drop.h, applied by the tile where it loads
// the crossbar), and sum_v2g / sum_vg above carry it into the cells' energy.
#include <cmath>

#include "chip/tile_blocks.h"

namespace aimc::chip {
namespace {

class OhmicArrayRead final : public ArrayRead {
 public:
  OhmicArrayRead(const config::ArrayConfig& a, const config::DeviceConfig& d, int adc_bits)
      : c_bl_f_(a.rows * a.cell_pitch_um * a.c_wire_ff_per_um * 1e-15),
        c_wl_f_(a.cols * 2.0 * a.cell_pitch_um * a.c_wire_ff_per_um * 1e-15),
        t_ps_(block_math::ns_to_ps(a.t_read_ns +
                                   (adc_bits + 1) * std::log(2.0) * (a.r_line_kohm * 1e3) * c_bl_f_ * 1e9)),
        t_settle_ps_(block_math::ns_to_ps((adc_bits + 1) * std::log(2.0) * (a.r_line_kohm * 1e3) * c_bl_f_ * 1e9)),
        v_read_v_(a.v_read_v), g_max_ns_(d.g_max_ns), t_read_ns_(a.t_read_ns),
        area_um2_(2.0 * a.rows * a.cols * a.cell_area_um2), p_static_w_(a.p_static_uw * 1e-6),
        phases_(a.read_phases) {}
  const char* kind() const override { return "ohmic"; }
  int phases() const override { return phases_; }
  double area_um2() const override { return area_um2_; }
  double p_static_w() const override { return p_static_w_; }
  BlockCost cost(const BlockOp& op) const override {
    const bool duration = op.enc.mode == InputEncoding::Mode::duration;
    const double t_on_ns = duration ? (block_math::pow2(op.enc.bits) - 1.0) * op.enc.t_lsb_ns : t_read_ns_;
    const double cells =
        (duration ? op.sum_vg : op.sum_v2g) * v_read_v_ * v_read_v_ * (g_max_ns_ * 1e-9) * (t_on_ns * 1e-9);
    const double lines =
        static_cast<double>(op.vectors) * (2.0 * op.cols * c_bl_f_ + op.rows * c_wl_f_) * v_read_v_ * v_read_v_;
    return {duration ? t_settle_ps_ : t_ps_, cells + lines};
  }

 private:
  double c_bl_f_, c_wl_f_;
  uint64_t t_ps_, t_settle_ps_;
  double v_read_v_, g_max_ns_, t_read_ns_, area_um2_, p_static_w_;
  int phases_;
};

}  // namespace

const BlockKind<ArrayRead>& array_read_kind_ohmic() {
  static const BlockKind<ArrayRead> kind = {
      "ohmic",
      "bit line settles through R to half an ADC LSB, then cell current v * G for t_read; energy "
      "v^2 G t_read per cell plus C v_read^2 per used line",
      [](const config::PlatformConfig& c) -> std::unique_ptr<ArrayRead> {
        return std::make_unique<OhmicArrayRead>(c.tile.array, c.tile.device, c.tile.adc.bits);
      }};
  return kind;
}

}  // namespace aimc::chip
