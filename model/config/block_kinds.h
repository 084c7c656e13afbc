// The kinds of a tile's blocks: the one list per role of the cost models the platform knows
// (input driver, array read, ADC bank, digital unit), and of the interconnect between them. Everything that names a kind reads it from
// here: the enums of the config (tile.dac.kind, tile.array.kind, tile.adc.kind,
// tile.digital.kind), their YAML spellings, help texts and the tables that build the blocks
// (chip/tile_blocks.cpp). The cost model of each kind is its own file in model/chip/blocks/.
//
// Adding a kind (docs/architecture.md, "Kinds of change"): write
// model/chip/blocks/<role>_<name>.cpp, which defines `<role>_kind_<name>()` (see the files there),
// and append X(<name>) to the role's list below. Header-only, so the config layer spells kinds
// without linking the cost models. Append, never reorder: a kind's position is its enumerator.
#pragma once

// One line per kind, X(name): `name` is the enumerator and its YAML spelling; the first kind of a
// role is its default.
#define AIMC_INPUT_DRIVER_KINDS(X) \
  X(voltage)                        \
  X(pwm)                            \
  X(bit_serial)
#define AIMC_ARRAY_READ_KINDS(X) \
  X(ohmic)
#define AIMC_ADC_KINDS(X) \
  X(sar)                   \
  X(ramp)                  \
  X(cco)                   \
  X(flash)
#define AIMC_DIGITAL_UNIT_KINDS(X) \
  X(lanes)
// The chip's interconnect (interconnect.kind): sim/interconnect_registry.cpp builds each from its
// file in model/sim/ (bus.cpp, mesh.cpp, links.cpp).
#define AIMC_INTERCONNECT_KINDS(X) \
  X(shared_bus)                    \
  X(mesh)                          \
  X(links)

namespace aimc::config {

#define AIMC_BLOCK_KIND_ENUMERATOR(name) name,
#define AIMC_BLOCK_KIND_SPELLING(name) #name,
#define AIMC_BLOCK_KIND_ROLE(Enum, LIST)                                                  \
  enum class Enum { LIST(AIMC_BLOCK_KIND_ENUMERATOR) };                                   \
  inline constexpr const char* k##Enum##Names[] = {LIST(AIMC_BLOCK_KIND_SPELLING)};        \
  inline constexpr int k##Enum##Count = static_cast<int>(sizeof k##Enum##Names / sizeof k##Enum##Names[0]); \
  inline const char* to_string(Enum kind) {                                               \
    const int i = static_cast<int>(kind);                                                 \
    return i >= 0 && i < k##Enum##Count ? k##Enum##Names[i] : "?";                        \
  }

AIMC_BLOCK_KIND_ROLE(InputDriverKind, AIMC_INPUT_DRIVER_KINDS)
AIMC_BLOCK_KIND_ROLE(ArrayReadKind, AIMC_ARRAY_READ_KINDS)
AIMC_BLOCK_KIND_ROLE(AdcKind, AIMC_ADC_KINDS)
AIMC_BLOCK_KIND_ROLE(DigitalUnitKind, AIMC_DIGITAL_UNIT_KINDS)
AIMC_BLOCK_KIND_ROLE(InterconnectKind, AIMC_INTERCONNECT_KINDS)

#undef AIMC_BLOCK_KIND_ROLE
#undef AIMC_BLOCK_KIND_SPELLING
#undef AIMC_BLOCK_KIND_ENUMERATOR

}  // namespace aimc::config
