// The ideal device: one pulse writes the exact target, no read noise, no drift, no temperature
// effect. The reference against which the other kinds' losses are measured.
#include "numerics/device_model.h"

namespace aimc::num {
namespace {

class IdealDevice final : public DeviceModel {
 public:
  DeviceKind kind() const override { return DeviceKind::ideal; }
  const char* summary() const override {
    return "exact conductances, no programming error, drift or temperature effect";
  }
  DeviceTraits traits() const override {
    DeviceTraits t;
    t.pulse = PulseLaw::exact;
    return t;
  }
  void validate(const DevicePhysics&) const override {}
  ThermalLaw thermal_law(const DevicePhysics&, double) const override { return ThermalLaw{}; }
  ProgramLaw program_law(const DevicePhysics&, double) const override { return ProgramLaw{}; }
  void read_transform(const Eigen::MatrixXf& g_prog, const Eigen::MatrixXf&, const DevicePhysics&,
                      double, double, Eigen::MatrixXf& out) const override {
    out = g_prog;
  }
};

}  // namespace

const DeviceModel& device_model_ideal() {
  static const IdealDevice model;
  return model;
}

}  // namespace aimc::num
