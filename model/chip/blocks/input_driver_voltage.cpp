// Input driver kind `voltage`: one voltage DAC per word line, all converting at once.
//   t = t_conv, e = rows driven * e_conv  (tile.dac.*; docs/chip-model.md, "Block kinds")
#include "chip/tile_blocks.h"

namespace aimc::chip {
namespace {

class VoltageDac final : public InputDriver {
 public:
  explicit VoltageDac(const config::DacConfig& c)
      : t_ps_(block_math::ns_to_ps(c.t_conv_ns)), e_conv_pj_(c.e_conv_pj) {}
  const char* kind() const override { return "voltage"; }
  BlockCost cost(const BlockOp& op) const override { return {t_ps_, op.rows * e_conv_pj_ * 1e-12}; }

 private:
  uint64_t t_ps_;
  double e_conv_pj_;
};

}  // namespace

const BlockKind<InputDriver>& input_driver_kind_voltage() {
  static const BlockKind<InputDriver> kind = {
      "voltage", "one voltage DAC per word line, all converting at once",
      [](const config::PlatformConfig& c) -> std::unique_ptr<InputDriver> {
        return std::make_unique<VoltageDac>(c.tile.dac);
      }};
  return kind;
}

}  // namespace aimc::chip
