// Today's kinds of the tile's blocks and the tables that register them. The formulas are those of
// chip/tile.h and docs/chip-model.md; their parameters come from the preset, which cites them.
#include "chip/tile_blocks.h"

#include <cmath>
#include <stdexcept>

namespace aimc::chip {

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
// A duration in nanoseconds (from config) as integer picoseconds, rounded to nearest (as
// sim::ns_to_ps, which needs SystemC's headers).
uint64_t ns_to_ps(double ns) { return static_cast<uint64_t>(ns * 1000.0 + 0.5); }

// A voltage DAC per word line, all converting at once: t = t_conv, e = rows * e_conv.
class VoltageDac final : public InputDriver {
 public:
  explicit VoltageDac(const config::DacConfig& c) : t_ps_(ns_to_ps(c.t_conv_ns)), e_conv_pj_(c.e_conv_pj) {}
  const char* kind() const override { return "voltage"; }
  BlockCost cost(const BlockOp& op) const override { return {t_ps_, op.rows * e_conv_pj_ * 1e-12}; }

 private:
  uint64_t t_ps_;
  double e_conv_pj_;
};

// Every cell of the used block read for t_read: e = sum v^2 G t_read (V^2 G t per cell).
class OhmicArrayRead final : public ArrayRead {
 public:
  OhmicArrayRead(const config::ArrayConfig& a, const config::DeviceConfig& d)
      : t_ps_(ns_to_ps(a.t_read_ns)), v_read_v_(a.v_read_v), g_max_ns_(d.g_max_ns), t_read_ns_(a.t_read_ns) {}
  const char* kind() const override { return "ohmic"; }
  BlockCost cost(const BlockOp& op) const override {
    return {t_ps_, op.sum_v2g * v_read_v_ * v_read_v_ * (g_max_ns_ * 1e-9) * (t_read_ns_ * 1e-9)};
  }

 private:
  uint64_t t_ps_;
  double v_read_v_, g_max_ns_, t_read_ns_;
};

// ceil(array.cols / share) ADCs, each converting its columns one after another (columns
// interleaved over the ADCs): t = ceil(cols / count) * t_conv, e = cols * e_conv.
class SharedColumnAdc final : public AdcBank {
 public:
  SharedColumnAdc(const config::AdcConfig& c, int array_cols)
      : count_(static_cast<int>(ceil_div(static_cast<uint64_t>(array_cols), static_cast<uint64_t>(c.share)))),
        t_conv_ps_(ns_to_ps(c.t_conv_ns)), e_conv_pj_(c.e_conv_pj) {}
  const char* kind() const override { return "shared_column"; }
  int count() const override { return count_; }
  BlockCost cost(const BlockOp& op) const override {
    const uint64_t rounds = ceil_div(static_cast<uint64_t>(op.cols), static_cast<uint64_t>(count_));
    return {rounds * t_conv_ps_, op.cols * e_conv_pj_ * 1e-12};
  }

 private:
  int count_;
  uint64_t t_conv_ps_;
  double e_conv_pj_;
};

// `lanes` element operations per clock cycle: t = ceil(ops / lanes) cycles, e = ops * e_op.
class LaneDigitalUnit final : public DigitalUnit {
 public:
  explicit LaneDigitalUnit(const config::DigitalConfig& c) : lanes_(c.lanes), clock_mhz_(c.clock_mhz), e_op_pj_(c.e_op_pj) {}
  const char* kind() const override { return "lanes"; }
  BlockCost cost(const BlockOp& op) const override {
    const uint64_t cycles = ceil_div(static_cast<uint64_t>(op.element_ops), static_cast<uint64_t>(lanes_));
    return {static_cast<uint64_t>(std::llround(cycles * 1e6 / clock_mhz_)),
            static_cast<double>(op.element_ops) * e_op_pj_ * 1e-12};
  }

 private:
  int lanes_;
  double clock_mhz_, e_op_pj_;
};

template <class Role>
std::unique_ptr<Role> make(const std::vector<BlockKind<Role>>& kinds, const char* role,
                           const config::PlatformConfig& cfg, std::string_view name) {
  if (name.empty() && !kinds.empty()) return kinds.front().make(cfg);
  std::string known;
  for (const BlockKind<Role>& k : kinds) {
    if (name == k.name) return k.make(cfg);
    known += std::string(known.empty() ? "" : ", ") + k.name;
  }
  throw std::invalid_argument("unknown " + std::string(role) + " kind '" + std::string(name) +
                              "' (kinds: " + known + ")");
}

}  // namespace

// ---- The tables: one line per kind. ----
const std::vector<BlockKind<InputDriver>>& input_driver_kinds() {
  static const std::vector<BlockKind<InputDriver>> kinds = {
      {"voltage", "one voltage DAC per word line, all converting at once",
       [](const config::PlatformConfig& c) -> std::unique_ptr<InputDriver> {
         return std::make_unique<VoltageDac>(c.tile.dac);
       }},
  };
  return kinds;
}

const std::vector<BlockKind<ArrayRead>>& array_read_kinds() {
  static const std::vector<BlockKind<ArrayRead>> kinds = {
      {"ohmic", "cell current v * G for t_read, energy v^2 G t_read per cell",
       [](const config::PlatformConfig& c) -> std::unique_ptr<ArrayRead> {
         return std::make_unique<OhmicArrayRead>(c.tile.array, c.tile.device);
       }},
  };
  return kinds;
}

const std::vector<BlockKind<AdcBank>>& adc_kinds() {
  static const std::vector<BlockKind<AdcBank>> kinds = {
      {"shared_column", "ceil(cols / share) ADCs, each converting its columns in turn",
       [](const config::PlatformConfig& c) -> std::unique_ptr<AdcBank> {
         return std::make_unique<SharedColumnAdc>(c.tile.adc, c.tile.array.cols);
       }},
  };
  return kinds;
}

const std::vector<BlockKind<DigitalUnit>>& digital_unit_kinds() {
  static const std::vector<BlockKind<DigitalUnit>> kinds = {
      {"lanes", "`lanes` element operations per clock cycle",
       [](const config::PlatformConfig& c) -> std::unique_ptr<DigitalUnit> {
         return std::make_unique<LaneDigitalUnit>(c.tile.digital);
       }},
  };
  return kinds;
}

std::unique_ptr<InputDriver> make_input_driver(const config::PlatformConfig& cfg, std::string_view name) {
  return make(input_driver_kinds(), "input driver", cfg, name);
}
std::unique_ptr<ArrayRead> make_array_read(const config::PlatformConfig& cfg, std::string_view name) {
  return make(array_read_kinds(), "array read", cfg, name);
}
std::unique_ptr<AdcBank> make_adc_bank(const config::PlatformConfig& cfg, std::string_view name) {
  return make(adc_kinds(), "ADC", cfg, name);
}
std::unique_ptr<DigitalUnit> make_digital_unit(const config::PlatformConfig& cfg, std::string_view name) {
  return make(digital_unit_kinds(), "digital unit", cfg, name);
}

}  // namespace aimc::chip
