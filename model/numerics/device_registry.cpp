// The registry of device kinds: one entry per line of AIMC_DEVICE_KINDS (device_kind.h), each the
// model defined in that kind's file (devices/<name>.cpp). The table is indexed by the enum, so a
// kind's code, spelling and class cannot disagree (tests/numerics/test_device_registry.cpp).
#include <stdexcept>
#include <string>

#include "numerics/device_model.h"

namespace aimc::num {

namespace {
#define AIMC_DEVICE_KIND_ENTRY(name) &device_model_##name,
const DeviceModel& (*const kModels[])() = {AIMC_DEVICE_KINDS(AIMC_DEVICE_KIND_ENTRY)};
#undef AIMC_DEVICE_KIND_ENTRY
static_assert(sizeof kModels / sizeof kModels[0] == kDeviceKindCount);
}  // namespace

const DeviceModel& device_model(DeviceKind kind) {
  const int i = static_cast<int>(kind);
  if (i < 0 || i >= kDeviceKindCount)
    throw std::invalid_argument("device kind " + std::to_string(i) +
                                " is not registered (the kinds are " + device_kind_list() + ")");
  return kModels[i]();
}

}  // namespace aimc::num
