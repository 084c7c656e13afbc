// The device kinds: the one list of cell technologies the platform knows. Everything that names a
// kind reads it from here: the enum (numerics and config), the YAML spelling of tile.device.type,
// the CAPS_DEVICE.TYPE code firmware reads, checkpoints and help texts. The physics of each kind is
// its class in model/numerics/devices/ (interface: numerics/device_model.h).
//
// Adding a kind (docs/device-physics.md, "Adding a device kind"): write
// model/numerics/devices/<name>.cpp and append X(<name>) to AIMC_DEVICE_KINDS below. Header-only
// on purpose, so the config layer can spell kinds without linking the physics.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// One line per kind, X(name): `name` is the enumerator and its YAML spelling. A kind's position is
// its CAPS_DEVICE.TYPE code (AIMC_DEVICE_<NAME> in the firmware header), so append, never reorder.
#define AIMC_DEVICE_KINDS(X) \
  X(ideal)                   \
  X(flash)                   \
  X(pcm)                     \
  X(rram)

namespace aimc::num {

#define AIMC_DEVICE_KIND_ENUMERATOR(name) name,
enum class DeviceKind { AIMC_DEVICE_KINDS(AIMC_DEVICE_KIND_ENUMERATOR) };
#undef AIMC_DEVICE_KIND_ENUMERATOR

#define AIMC_DEVICE_KIND_SPELLING(name) #name,
inline constexpr const char* kDeviceKindNames[] = {AIMC_DEVICE_KINDS(AIMC_DEVICE_KIND_SPELLING)};
#undef AIMC_DEVICE_KIND_SPELLING

inline constexpr int kDeviceKindCount =
    static_cast<int>(sizeof kDeviceKindNames / sizeof kDeviceKindNames[0]);

// The YAML spelling of a kind ("?" for a value outside the enum, e.g. a corrupt cast).
inline const char* device_kind_name(DeviceKind kind) {
  const int i = static_cast<int>(kind);
  return i >= 0 && i < kDeviceKindCount ? kDeviceKindNames[i] : "?";
}

// The kind spelled `name`, if there is one (exact, case-sensitive: the YAML spelling).
inline std::optional<DeviceKind> parse_device_kind(std::string_view name) {
  for (int i = 0; i < kDeviceKindCount; ++i)
    if (name == kDeviceKindNames[i]) return static_cast<DeviceKind>(i);
  return std::nullopt;
}

// "ideal, flash, pcm or rram": for messages that list the choices.
inline std::string device_kind_list() {
  std::string s;
  for (int i = 0; i < kDeviceKindCount; ++i)
    s += std::string(i == 0 ? "" : i + 1 == kDeviceKindCount ? " or " : ", ") + kDeviceKindNames[i];
  return s;
}

// The CAPS_DEVICE.TYPE code of a kind (its position in AIMC_DEVICE_KINDS).
inline constexpr unsigned device_kind_code(DeviceKind kind) { return static_cast<unsigned>(kind); }

}  // namespace aimc::num
