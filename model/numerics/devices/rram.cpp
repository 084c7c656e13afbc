// Resistive RAM: the drifting resistive law (resistive.h) with the rram preset's parameters
// (NeuroSim-style defaults; sources in platforms/rram-3x4.yaml and docs/reference-chips.md).
#include "numerics/devices/resistive.h"

namespace aimc::num {
namespace {

class RramDevice final : public ResistiveDevice {
 public:
  DeviceKind kind() const override { return DeviceKind::rram; }
  const char* summary() const override { return "resistive RAM"; }
};

}  // namespace

const DeviceModel& device_model_rram() {
  static const RramDevice model;
  return model;
}

}  // namespace aimc::num
