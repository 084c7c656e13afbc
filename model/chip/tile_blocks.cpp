// The tables of the tile's block kinds, generated from the lists in config/block_kinds.h; each
// kind's cost model is its own file in chip/blocks/.
#include "chip/tile_blocks.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace aimc::chip {

double block_math::adc_energy_bound_j(int bits, double f_hz) {
  const double sndr_db = 6.02 * bits + 1.76;
  const double fom_db = std::min(302.74 - 6.461 * std::log(std::max(f_hz, 1.0)), 180.14);
  return 1.0 / (2.0 * std::pow(10.0, (fom_db - sndr_db) / 10.0));
}

double block_math::pow2(double x) { return x == 0.0 ? 1.0 : std::exp2(x); }

LawAdcBank::LawAdcBank(const config::AdcConfig& c, int count, double t_conv_ns, double e_conv_pj,
                       double area_scale)
    : count_(count),
      t_conv_ps_(block_math::ns_to_ps(t_conv_ns)),
      e_conv_pj_(std::max(e_conv_pj, block_math::adc_energy_bound_j(c.bits, 1e9 / t_conv_ns) * 1e12)),
      area_um2_(count * c.area_um2 * area_scale),
      p_static_w_(count * c.p_static_uw * 1e-6 * area_scale) {}

uint64_t LawAdcBank::rounds_ps(int cols) const {
  return block_math::ceil_div(static_cast<uint64_t>(cols), static_cast<uint64_t>(count_)) * t_conv_ps_;
}

uint64_t mvm_pass_time_ps(const InputDriver& dac, const ArrayRead& array, const AdcBank& adc, int cols_used) {
  BlockOp op;
  op.enc = dac.encoding();
  op.cols = cols_used;
  return dac.cost(op).t_ps + array.cost(op).t_ps + adc.cost(op).t_ps;
}

uint64_t mvm_time_ps(const InputDriver& dac, const ArrayRead& array, const AdcBank& adc, int cols_used) {
  return static_cast<uint64_t>(dac.encoding().passes()) * static_cast<uint64_t>(array.phases()) *
         mvm_pass_time_ps(dac, array, adc, cols_used);
}

namespace {

template <class Role>
std::unique_ptr<Role> make(const std::vector<BlockKind<Role>>& kinds, const char* role,
                           const config::PlatformConfig& cfg, std::string_view name, int configured) {
  if (name.empty() && configured >= 0 && configured < static_cast<int>(kinds.size()))
    return kinds[static_cast<size_t>(configured)].make(cfg);
  std::string known;
  for (const BlockKind<Role>& k : kinds) {
    if (name == k.name) return k.make(cfg);
    known += std::string(known.empty() ? "" : ", ") + k.name;
  }
  throw std::invalid_argument("unknown " + std::string(role) + " kind '" + std::string(name) +
                              "' (kinds: " + known + ")");
}

}  // namespace

#define AIMC_INPUT_DRIVER_ENTRY(name) input_driver_kind_##name(),
#define AIMC_ARRAY_READ_ENTRY(name) array_read_kind_##name(),
#define AIMC_ADC_ENTRY(name) adc_kind_##name(),
#define AIMC_DIGITAL_UNIT_ENTRY(name) digital_unit_kind_##name(),

const std::vector<BlockKind<InputDriver>>& input_driver_kinds() {
  static const std::vector<BlockKind<InputDriver>> kinds = {AIMC_INPUT_DRIVER_KINDS(AIMC_INPUT_DRIVER_ENTRY)};
  return kinds;
}
const std::vector<BlockKind<ArrayRead>>& array_read_kinds() {
  static const std::vector<BlockKind<ArrayRead>> kinds = {AIMC_ARRAY_READ_KINDS(AIMC_ARRAY_READ_ENTRY)};
  return kinds;
}
const std::vector<BlockKind<AdcBank>>& adc_kinds() {
  static const std::vector<BlockKind<AdcBank>> kinds = {AIMC_ADC_KINDS(AIMC_ADC_ENTRY)};
  return kinds;
}
const std::vector<BlockKind<DigitalUnit>>& digital_unit_kinds() {
  static const std::vector<BlockKind<DigitalUnit>> kinds = {AIMC_DIGITAL_UNIT_KINDS(AIMC_DIGITAL_UNIT_ENTRY)};
  return kinds;
}

#undef AIMC_DIGITAL_UNIT_ENTRY
#undef AIMC_ADC_ENTRY
#undef AIMC_ARRAY_READ_ENTRY
#undef AIMC_INPUT_DRIVER_ENTRY

std::unique_ptr<InputDriver> make_input_driver(const config::PlatformConfig& cfg, std::string_view name) {
  return make(input_driver_kinds(), "input driver", cfg, name, static_cast<int>(cfg.tile.dac.kind));
}
std::unique_ptr<ArrayRead> make_array_read(const config::PlatformConfig& cfg, std::string_view name) {
  return make(array_read_kinds(), "array read", cfg, name, static_cast<int>(cfg.tile.array.kind));
}
std::unique_ptr<AdcBank> make_adc_bank(const config::PlatformConfig& cfg, std::string_view name) {
  return make(adc_kinds(), "ADC", cfg, name, static_cast<int>(cfg.tile.adc.kind));
}
std::unique_ptr<DigitalUnit> make_digital_unit(const config::PlatformConfig& cfg, std::string_view name) {
  return make(digital_unit_kinds(), "digital unit", cfg, name, static_cast<int>(cfg.tile.digital.kind));
}

}  // namespace aimc::chip
