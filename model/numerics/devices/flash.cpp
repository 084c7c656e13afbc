// Split-gate floating-gate NOR flash read in sub-threshold (memBrain / SuperFlash ESF3), gate-coupled
// to a peripheral reference cell. The laws and the sources of their parameters:
// docs/device-physics.md ("The four models", "Why a balanced flash pair ...").
//   erase     sector by sector to the HIGH state (g_erased >= g_max), one endurance cycle per cell;
//   pulses    only lower g (source-side injection), acting on ln g (PulseLaw::log_down);
//   retention charge loss lowers Vt by retention_mv_per_decade log10(1 + AF(T) t) q, q the cell's
//             stored charge, AF the Arrhenius acceleration;
//   thermal   g(T) = g_ref (g(T_ref) / g_ref)^(T_ref / T), g_ref the reference cell.
#include <cmath>
#include <stdexcept>

#include "numerics/device_internal.h"
#include "numerics/device_model.h"

namespace aimc::num {
namespace {

class FlashDevice final : public DeviceModel {
 public:
  DeviceKind kind() const override { return DeviceKind::flash; }
  const char* summary() const override {
    return "split-gate floating-gate flash, sub-threshold read";
  }
  DeviceTraits traits() const override {
    DeviceTraits t;
    t.pulse = PulseLaw::log_down;
    t.erase_high = true;
    t.cycles_on_erase = true;
    return t;
  }

  void validate(const DevicePhysics& p) const override {
    const auto finite = [](double v) { return std::isfinite(v); };
    if (!(p.cell.g_min_ns > 0))
      bad_device_field("cell.g_min_ns",
                       "must be > 0 for flash (its pulses and temperature law act on ln g)",
                       p.cell.g_min_ns);
    if (!(finite(p.slope_factor) && p.slope_factor > 0))
      bad_device_field("slope_factor", "must be > 0", p.slope_factor);
    if (!(finite(p.g_ref_ns) && p.g_ref_ns > 0))
      bad_device_field("g_ref_ns", "must be > 0", p.g_ref_ns);
    if (!(finite(p.retention_mv_per_decade) && p.retention_mv_per_decade >= 0))
      bad_device_field("retention_mv_per_decade", "must be >= 0", p.retention_mv_per_decade);
    if (!(finite(p.retention_ea_ev) && p.retention_ea_ev >= 0))
      bad_device_field("retention_ea_ev", "must be >= 0", p.retention_ea_ev);
  }

  ThermalLaw thermal_law(const DevicePhysics& p, double temp_c) const override {
    ThermalLaw law;
    law.form = ThermalLaw::Form::reference_power;
    law.g_ref = p.g_ref_ns / p.cell.g_max_ns;
    law.ratio = kelvin(p.t_ref_c) / kelvin(temp_c);
    return law;
  }

  // Records: lowering ln g by dx at the programming temperature raises Vt by n kT/q dx.
  ProgramLaw program_law(const DevicePhysics& p, double temp_c) const override {
    ProgramLaw law;
    law.record_scale = p.slope_factor * 1000.0 * kBoltzmannEvPerK * kelvin(temp_c);
    return law;
  }

  // Charge loss and temperature both act on x = ln g (Vt is linear in it): one log and one exp
  // per cell, in double.
  void read_transform(const Eigen::MatrixXf& g_prog, const Eigen::MatrixXf&,
                      const DevicePhysics& p, double age_s, double temp_c,
                      Eigen::MatrixXf& out) const override {
    const bool charge_loss = age_s > 0 && p.retention_mv_per_decade > 0;
    const bool hot = temp_c != p.t_ref_c;
    if (!charge_loss && !hot) {
      out = g_prog;
      return;
    }
    const double t_ref_k = kelvin(p.t_ref_c);
    // Written as before the kinds were classes, so that Eigen evaluates the same expressions.
    Eigen::ArrayXXd g = g_prog.cast<double>().array();
    Eigen::ArrayXXd x = g.log();
    if (charge_loss) {
      // Charge loss lowers Vt by dVt = R log10(1 + AF t) q; q: the cell's stored charge.
      const double af = std::exp(p.retention_ea_ev / kBoltzmannEvPerK *
                                 (1.0 / t_ref_k - 1.0 / kelvin(temp_c)));
      const double dvt_full_mv = p.retention_mv_per_decade * std::log10(1.0 + af * age_s);
      const double ln_erased = std::log(p.g_erased_ns / p.cell.g_max_ns);
      const double ln_span = ln_erased - std::log(detail::g_min_norm(p));
      const double vt_per_ln_mv = p.slope_factor * 1000.0 * kBoltzmannEvPerK * t_ref_k;
      x += ((ln_erased - x) / ln_span).max(0.0).min(1.0) * (dvt_full_mv / vt_per_ln_mv);
    }
    if (hot) {
      // g_T = g_ref (g / g_ref)^(T_ref / T).
      const double ln_g_ref = std::log(p.g_ref_ns / p.cell.g_max_ns);
      x = ln_g_ref + (t_ref_k / kelvin(temp_c)) * (x - ln_g_ref);
    }
    g = x.exp();
    out = g.cast<float>().matrix();
  }
};

}  // namespace

const DeviceModel& device_model_flash() {
  static const FlashDevice model;
  return model;
}

double flash_vt_offset_mv(const DevicePhysics& phys, double g) {
  validate(phys);
  if (phys.kind != DeviceKind::flash)
    throw std::invalid_argument("flash_vt_offset_mv: the device is not flash");
  if (!(g > 0))
    throw std::invalid_argument("flash_vt_offset_mv: g must be > 0, got " + detail::fmt(g));
  const double kt_ref_mv = 1000.0 * kBoltzmannEvPerK * kelvin(phys.t_ref_c);
  return -phys.slope_factor * kt_ref_mv * std::log(g / (phys.g_ref_ns / phys.cell.g_max_ns));
}

}  // namespace aimc::num
