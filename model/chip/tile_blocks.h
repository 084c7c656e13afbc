// The blocks of a tile as parts with one shape: the input driver (DAC bank), the array read, the
// ADC bank and the digital unit. Each is built from its YAML section (tile.dac, tile.array,
// tile.adc, tile.digital, plus what it needs of the tile) and answers how long one of its
// operations takes and what energy it costs (BlockCost); the tile owns and composes them
// (chip/tile.h gives the formulas of today's kinds, docs/chip-model.md their sources).
// Plain C++ (no SystemC): a cost model is testable on its own.
//
// Kinds. Each block role has a table of kinds (tile_blocks.cpp): a new ADC kind (say, a SAR ADC
// whose time grows with its bits) or input encoding (pulse-width, bit-serial) is one new file with
// a class derived from the role's base plus one line in that role's table. The platform names the
// kind; until the config has a key for it, every tile uses the first kind of each table.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/platform_config.h"

namespace aimc::chip {

// What one operation on the tile asks of a block (each block reads what concerns it).
struct BlockOp {
  int rows = 0;           // word lines driven (DAC) for one input vector
  int cols = 0;           // columns converted (ADC) for one input vector
  long element_ops = 0;   // digital unit: element operations
  double sum_v2g = 0.0;   // array: the kernel's sum over the batch of v^2 g (normalized)
};

struct BlockCost {
  uint64_t t_ps = 0;  // time the block is busy with the operation
  double e_j = 0.0;   // energy of the operation
};

class TileBlock {
 public:
  virtual ~TileBlock() = default;
  virtual const char* kind() const = 0;       // as registered
  virtual const char* component() const = 0;  // ledger component its energy is charged to
  virtual BlockCost cost(const BlockOp& op) const = 0;
};

// The roles. A kind of a role derives from it; the role fixes the component name.
class InputDriver : public TileBlock {   // DAC bank: drives the word lines of one input vector
 public:
  const char* component() const override { return "dac"; }
};
class ArrayRead : public TileBlock {     // the crossbar read of one input vector
 public:
  const char* component() const override { return "array"; }
};
class AdcBank : public TileBlock {       // converts the columns of one input vector
 public:
  const char* component() const override { return "adc"; }
  virtual int count() const = 0;         // converters in the bank
};
class DigitalUnit : public TileBlock {   // partial sums, bias, activation, requantization
 public:
  const char* component() const override { return "digital"; }
};

// The kinds of each role, by name, built from the platform config.
template <class Role>
struct BlockKind {
  const char* name;
  const char* description;
  std::unique_ptr<Role> (*make)(const config::PlatformConfig& cfg);
};
const std::vector<BlockKind<InputDriver>>& input_driver_kinds();
const std::vector<BlockKind<ArrayRead>>& array_read_kinds();
const std::vector<BlockKind<AdcBank>>& adc_kinds();
const std::vector<BlockKind<DigitalUnit>>& digital_unit_kinds();

// Builds the kind `name` of a role (empty: the role's first kind); std::invalid_argument naming
// the role and listing its kinds when there is none of that name.
std::unique_ptr<InputDriver> make_input_driver(const config::PlatformConfig& cfg, std::string_view name = {});
std::unique_ptr<ArrayRead> make_array_read(const config::PlatformConfig& cfg, std::string_view name = {});
std::unique_ptr<AdcBank> make_adc_bank(const config::PlatformConfig& cfg, std::string_view name = {});
std::unique_ptr<DigitalUnit> make_digital_unit(const config::PlatformConfig& cfg, std::string_view name = {});

}  // namespace aimc::chip
