// Phase-change memory: the drifting resistive law (resistive.h) with the pcm preset's parameters
// (HERMES-style iterative programming, drift exponents from the published chips; sources in
// platforms/pcm-3x4.yaml and docs/reference-chips.md).
#include "numerics/devices/resistive.h"

namespace aimc::num {
namespace {

class PcmDevice final : public ResistiveDevice {
 public:
  DeviceKind kind() const override { return DeviceKind::pcm; }
  const char* summary() const override { return "phase-change memory"; }
};

}  // namespace

const DeviceModel& device_model_pcm() {
  static const PcmDevice model;
  return model;
}

}  // namespace aimc::num
