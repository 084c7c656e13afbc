// Resistive cells with conductance drift, the law pcm and rram share (their own parameters come
// from their presets): bidirectional iterative programming (PulseLaw::linear), erase = RESET of
// the whole array to a low conductance, an endurance cycle per programmed cell, drift
// g(t) = g_prog (max(t, t0) / t0)^-nu with nu drawn per cell at programming, and the activation
// temperature law g(T) = g exp(-(Ea(g)/k)(1/T - 1/T_ref)). docs/device-physics.md.
#pragma once

#include "numerics/device_model.h"

namespace aimc::num {

class ResistiveDevice : public DeviceModel {
 public:
  DeviceTraits traits() const override;
  void validate(const DevicePhysics& p) const override;
  ThermalLaw thermal_law(const DevicePhysics& p, double temp_c) const override;
  ProgramLaw program_law(const DevicePhysics& p, double temp_c) const override;
  void read_transform(const Eigen::MatrixXf& g_prog, const Eigen::MatrixXf& nu,
                      const DevicePhysics& p, double age_s, double temp_c,
                      Eigen::MatrixXf& out) const override;
};

}  // namespace aimc::num
