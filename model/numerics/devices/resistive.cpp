// The drifting resistive cell law shared by pcm and rram (resistive.h).
#include "numerics/devices/resistive.h"

#include <cmath>
#include <initializer_list>

#include "numerics/device_internal.h"

namespace aimc::num {

DeviceTraits ResistiveDevice::traits() const {
  DeviceTraits t;
  t.pulse = PulseLaw::linear;
  t.cycles_on_program = true;
  t.drift = true;
  return t;
}

void ResistiveDevice::validate(const DevicePhysics& p) const {
  const auto finite = [](double v) { return std::isfinite(v); };
  const DeviceSpec& c = p.cell;
  if (!(finite(p.drift_t0_s) && p.drift_t0_s > 0))
    bad_device_field("drift_t0_s", "must be > 0", p.drift_t0_s);
  if (!finite(p.nu_at_gmax)) bad_device_field("nu_at_gmax", "must be finite", p.nu_at_gmax);
  if (!finite(p.nu_at_gmin)) bad_device_field("nu_at_gmin", "must be finite", p.nu_at_gmin);
  if (!(finite(p.nu_sigma_at_gmax) && p.nu_sigma_at_gmax >= 0))
    bad_device_field("nu_sigma_at_gmax", "must be >= 0", p.nu_sigma_at_gmax);
  if (!(finite(p.nu_sigma_at_gmin) && p.nu_sigma_at_gmin >= 0))
    bad_device_field("nu_sigma_at_gmin", "must be >= 0", p.nu_sigma_at_gmin);
  if (!finite(p.ea_at_gmax_ev)) bad_device_field("ea_at_gmax_ev", "must be finite", p.ea_at_gmax_ev);
  if (!finite(p.ea_at_gmin_ev)) bad_device_field("ea_at_gmin_ev", "must be finite", p.ea_at_gmin_ev);
  if (!(c.g_min_ns > 0))
    bad_device_field("cell.g_min_ns",
                     "must be > 0 for pcm and rram (their temperature law acts on ln g)",
                     c.g_min_ns);
  // Monotonic temperature law from -55 to 150 C: 1 - c dEa/dln g > 0 at both ends.
  const double slope = (p.ea_at_gmax_ev - p.ea_at_gmin_ev) / std::log(c.g_max_ns / c.g_min_ns);
  for (double t_c : {-55.0, 150.0}) {
    const double cc = (1.0 / kelvin(t_c) - 1.0 / kelvin(p.t_ref_c)) / kBoltzmannEvPerK;
    if (!(1.0 - cc * slope > 0))
      bad_device_field("ea_at_gmin_ev",
                       "differs too much from ea_at_gmax_ev: the temperature law would reorder "
                       "cells between -55 and 150 C (need |ea_at_gmax_ev - ea_at_gmin_ev| < "
                       "ln(g_max/g_min) / |1/T - 1/T_ref| * k)",
                       p.ea_at_gmin_ev);
  }
}

ThermalLaw ResistiveDevice::thermal_law(const DevicePhysics& p, double temp_c) const {
  ThermalLaw law;
  law.form = ThermalLaw::Form::activation;
  law.c = (1.0 / kelvin(temp_c) - 1.0 / kelvin(p.t_ref_c)) / kBoltzmannEvPerK;
  law.g_min = detail::g_min_norm(p);
  law.ea_min = p.ea_at_gmin_ev;
  law.ea_max = p.ea_at_gmax_ev;
  law.u_min = law.g_min > 0 ? std::log(law.g_min) : -700.0;
  law.slope = (law.ea_max - law.ea_min) / (0.0 - law.u_min);
  return law;
}

ProgramLaw ResistiveDevice::program_law(const DevicePhysics& p, double) const {
  ProgramLaw law;
  law.nu_at_gmin = p.nu_at_gmin;
  law.nu_at_gmax = p.nu_at_gmax;
  law.nu_sigma_at_gmin = p.nu_sigma_at_gmin;
  law.nu_sigma_at_gmax = p.nu_sigma_at_gmax;
  return law;
}

// Drift, then temperature (Ea taken at the drifted g), in double on whole arrays.
void ResistiveDevice::read_transform(const Eigen::MatrixXf& g_prog, const Eigen::MatrixXf& nu,
                                     const DevicePhysics& p, double age_s, double temp_c,
                                     Eigen::MatrixXf& out) const {
  Eigen::ArrayXXd g = g_prog.cast<double>().array();
  if (age_s > p.drift_t0_s) {
    const double ln_age = std::log(age_s / p.drift_t0_s);
    g *= (nu.cast<double>().array() * -ln_age).exp();
  }
  if (temp_c != p.t_ref_c) {
    const double c = (1.0 / kelvin(temp_c) - 1.0 / kelvin(p.t_ref_c)) / kBoltzmannEvPerK;
    const double ln_g_min = std::log(detail::g_min_norm(p));
    const Eigen::ArrayXXd frac =
        ((g.max(1e-300).log() - ln_g_min) / (0.0 - ln_g_min)).max(0.0).min(1.0);
    const Eigen::ArrayXXd ea = p.ea_at_gmin_ev + (p.ea_at_gmax_ev - p.ea_at_gmin_ev) * frac;
    g *= (ea * -c).exp();
  }
  out = g.cast<float>().matrix();
}

}  // namespace aimc::num
