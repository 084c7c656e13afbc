// The blocks of a tile as parts with one shape: the input driver (DAC bank), the array read, the
// ADC bank and the digital unit. Each is built from its YAML section (tile.dac, tile.array,
// tile.adc, tile.digital, plus what it needs of the tile) and answers how long one of its
// operations takes and what energy it costs (BlockCost); the tile owns and composes them
// (chip/tile.h gives the formulas of today's kinds, docs/chip-model.md their sources).
// Plain C++ (no SystemC): a cost model is testable on its own.
//
// Kinds. Each kind is one file in chip/blocks/ (<role>_<name>.cpp: its class, derived from the
// role's base, and the function `<role>_kind_<name>()` that registers it) and one line X(<name>)
// in the role's list in config/block_kinds.h, which also gives the config key that chooses it
// (tile.dac.kind, tile.array.kind, tile.adc.kind, tile.digital.kind; default: the first kind).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/block_kinds.h"
#include "config/platform_config.h"

namespace aimc::chip {

// What one operation on the tile asks of a block (each block reads what concerns it).
// The element operations of the digital unit, by what they cost (reference-chips 5a): requantize
// (an output element of an MVM or a rescaling op: add, multiply, compare), compare (max pooling),
// accumulate (average pooling), mac (a digital depthwise convolution), float_op (softmax).
enum class DigitalWork { requantize, compare, accumulate, mac, float_op };

// How the input driver puts a code on the word lines, as the array and the ADC see it:
//   amplitude   a voltage v = code / Cmax for the whole read (one read per vector)
//   duration    a pulse of code * t_lsb at v_read inside a window of 2^bits t_lsb (one read)
//   bit_serial  one read per input bit, each driving the rows whose bit is set at v_read; the ADC
//               converts every bit's partial sum and the digital unit shifts and adds them
struct InputEncoding {
  enum class Mode { amplitude, duration, bit_serial };
  Mode mode = Mode::amplitude;
  int bits = 8;           // input code bits (Cmax = 2^bits - 1)
  double t_lsb_ns = 0.0;  // duration: pulse length per code step
  int passes() const { return mode == Mode::bit_serial ? bits : 1; }  // array reads per vector
};

struct BlockOp {
  int rows = 0;           // word lines driven (DAC, array) for one input vector
  int cols = 0;           // columns converted (ADC) or read (array: bit-line pairs) for one input vector
  long element_ops = 0;   // digital unit: element operations
  double sum_v2g = 0.0;   // array: the kernel's sum over the reads of v^2 g (normalized)
  long vectors = 1;       // array: reads of the operation (each charges its lines once)
  DigitalWork work = DigitalWork::requantize;  // digital unit: what the element operations are
  double sum_vg = 0.0;    // array: the same of v g (a duration-coded read: charge ~ pulse length)
  InputEncoding enc = {}; // array: how the inputs are driven (the tile's input driver's)
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
  // Silicon area of the whole block of one tile (all its converters, cells, lanes), in um^2.
  virtual double area_um2() const { return 0.0; }
  // Static (leakage, bias, reference) power of the whole block of one tile while the tile is
  // active, in W; charged to component() as static energy.
  virtual double p_static_w() const { return 0.0; }
};

// The roles. A kind of a role derives from it; the role fixes the component name.
class InputDriver : public TileBlock {   // DAC bank: drives the word lines of one input vector
 public:
  const char* component() const override { return "dac"; }
  // What the driver puts on the lines; cost() is that of one pass (one read of the array).
  virtual InputEncoding encoding() const = 0;
};
// The common part of the input driver kinds (chip/blocks/input_driver_*.cpp): each kind's law gives
// what it puts on the lines, the time of one pass, the energy per row driven in a pass and the
// area of the tile's drivers.
class LawInputDriver : public InputDriver {
 public:
  InputEncoding encoding() const override { return enc_; }
  BlockCost cost(const BlockOp& op) const override { return {t_ps_, op.rows * e_row_pj_ * 1e-12}; }
  double area_um2() const override { return area_um2_; }

 protected:
  LawInputDriver(InputEncoding enc, uint64_t t_ps, double e_row_pj, double area_um2)
      : enc_(enc), t_ps_(t_ps), e_row_pj_(e_row_pj), area_um2_(area_um2) {}

 private:
  InputEncoding enc_;
  uint64_t t_ps_;
  double e_row_pj_, area_um2_;
};

class ArrayRead : public TileBlock {     // the crossbar read of one input vector
 public:
  const char* component() const override { return "array"; }
  // Reads per pass of the input (tile.array.read_phases: 1, or the sign-split phases); cost() is
  // that of one phase.
  virtual int phases() const { return 1; }
};
class AdcBank : public TileBlock {       // converts the columns of one input vector
 public:
  const char* component() const override { return "adc"; }
  virtual int count() const = 0;         // converters in the bank
  virtual double e_conv_j() const = 0;   // energy of one conversion at the configured bits
};
// The common part of the ADC kinds (chip/blocks/adc_*.cpp): each kind's law gives the converters
// of a tile and, for one converter at the configured bits, its conversion time, energy and the
// scale of its area and leakage against the reference converter (tile.adc.ref_bits, area_um2,
// p_static_uw). No conversion costs less than the survey bound at its rate.
class LawAdcBank : public AdcBank {
 public:
  int count() const override { return count_; }
  double e_conv_j() const override { return e_conv_pj_ * 1e-12; }
  double area_um2() const override { return area_um2_; }
  double p_static_w() const override { return p_static_w_; }

 protected:
  LawAdcBank(const config::AdcConfig& c, int count, double t_conv_ns, double e_conv_pj, double area_scale);
  uint64_t t_conv_ps() const { return t_conv_ps_; }
  // Converters taking `cols` columns in turn: ceil(cols / count) conversions each.
  uint64_t rounds_ps(int cols) const;
  double energy_j(int cols) const { return cols * e_conv_pj_ * 1e-12; }

 private:
  int count_;
  uint64_t t_conv_ps_;
  double e_conv_pj_, area_um2_, p_static_w_;
};

class DigitalUnit : public TileBlock {   // partial sums, bias, activation, requantization
 public:
  const char* component() const override { return "digital"; }
};

// The kinds of each role, by name, built from the platform config. A role's table is in the order
// of its list in config/block_kinds.h (index = the config enum's value).
template <class Role>
struct BlockKind {
  const char* name;
  const char* description;
  std::unique_ptr<Role> (*make)(const config::PlatformConfig& cfg);
};

// Each kind file defines its registration, declared here from the lists.
#define AIMC_DECLARE_BLOCK_KIND(Role, role, name) const BlockKind<Role>& role##_kind_##name();
#define AIMC_DECLARE_INPUT_DRIVER_KIND(name) AIMC_DECLARE_BLOCK_KIND(InputDriver, input_driver, name)
#define AIMC_DECLARE_ARRAY_READ_KIND(name) AIMC_DECLARE_BLOCK_KIND(ArrayRead, array_read, name)
#define AIMC_DECLARE_ADC_KIND(name) AIMC_DECLARE_BLOCK_KIND(AdcBank, adc, name)
#define AIMC_DECLARE_DIGITAL_UNIT_KIND(name) AIMC_DECLARE_BLOCK_KIND(DigitalUnit, digital_unit, name)
AIMC_INPUT_DRIVER_KINDS(AIMC_DECLARE_INPUT_DRIVER_KIND)
AIMC_ARRAY_READ_KINDS(AIMC_DECLARE_ARRAY_READ_KIND)
AIMC_ADC_KINDS(AIMC_DECLARE_ADC_KIND)
AIMC_DIGITAL_UNIT_KINDS(AIMC_DECLARE_DIGITAL_UNIT_KIND)
#undef AIMC_DECLARE_DIGITAL_UNIT_KIND
#undef AIMC_DECLARE_ADC_KIND
#undef AIMC_DECLARE_ARRAY_READ_KIND
#undef AIMC_DECLARE_INPUT_DRIVER_KIND
#undef AIMC_DECLARE_BLOCK_KIND

// Arithmetic the kinds share.
namespace block_math {
inline uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
// A duration in nanoseconds (from config) as integer picoseconds, rounded to nearest (as
// sim::ns_to_ps, which needs SystemC's headers).
inline uint64_t ns_to_ps(double ns) { return static_cast<uint64_t>(ns * 1000.0 + 0.5); }
// The least energy per conversion published ADCs reach at `bits` and `f_hz` conversions per second:
// the Murmann-survey fit of the CiMLoop/Accelergy ADC plug-in (reference-chips.md section 5b):
// E = 1 / (2 * 10^((FoM_S - SNDR) / 10)), SNDR = 6.02 b + 1.76 dB, FoM_S = min(302.74 - 6.461 ln f,
// 180.14) dB. Flat below a 174 MHz knee (8 b: 47.6 fJ), 4x per bit (the thermal-noise bound).
double adc_energy_bound_j(int bits, double f_hz);
// 2^x for the laws (exact at x = 0, so a kind at its reference point gives its reference figures).
double pow2(double x);
}  // namespace block_math
// Time of one MVM, one input vector over `cols_used` columns: per pass of the encoding (one for
// amplitude and duration, one per input bit for bit-serial) and per phase of the array read, the
// driver, then the array read, then the ADC rounds. The one composition: the tile (Tile::t_mvm_ps) and the compiler's replication
// pass both ask it.
uint64_t mvm_time_ps(const InputDriver& dac, const ArrayRead& array, const AdcBank& adc, int cols_used);
// The time of one of those passes.
uint64_t mvm_pass_time_ps(const InputDriver& dac, const ArrayRead& array, const AdcBank& adc, int cols_used);

const std::vector<BlockKind<InputDriver>>& input_driver_kinds();
const std::vector<BlockKind<ArrayRead>>& array_read_kinds();
const std::vector<BlockKind<AdcBank>>& adc_kinds();
const std::vector<BlockKind<DigitalUnit>>& digital_unit_kinds();

// Builds the kind `name` of a role (empty: the kind the platform chooses, tile.<role>.kind);
// std::invalid_argument naming the role and listing its kinds when there is none of that name.
std::unique_ptr<InputDriver> make_input_driver(const config::PlatformConfig& cfg, std::string_view name = {});
std::unique_ptr<ArrayRead> make_array_read(const config::PlatformConfig& cfg, std::string_view name = {});
std::unique_ptr<AdcBank> make_adc_bank(const config::PlatformConfig& cfg, std::string_view name = {});
std::unique_ptr<DigitalUnit> make_digital_unit(const config::PlatformConfig& cfg, std::string_view name = {});

}  // namespace aimc::chip
