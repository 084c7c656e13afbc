// The tile's blocks (chip/tile_blocks.h): each kind's time and energy against the formulas of
// chip/tile.h worked out by hand here, and the kind tables.
#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "chip/tile_blocks.h"

namespace aimc::chip {
namespace {

config::PlatformConfig platform() {
  config::PlatformConfig c;
  c.tile.array.cols = 100;
  c.tile.array.v_read_v = 0.5;
  c.tile.array.t_read_ns = 20.0;
  c.tile.device.g_max_ns = 400.0;
  c.tile.dac.t_conv_ns = 2.5;
  c.tile.dac.e_conv_pj = 0.25;
  c.tile.adc.share = 8;          // 13 ADCs for 100 columns
  c.tile.adc.t_conv_ns = 4.0;
  c.tile.adc.e_conv_pj = 1.5;
  c.tile.digital.lanes = 4;
  c.tile.digital.clock_mhz = 250.0;  // 4 ns per cycle
  c.tile.digital.e_op_pj = 0.1;
  return c;
}

TEST(TileBlocks, DefaultKindsCostWhatTheTileFormulasSay) {
  const config::PlatformConfig c = platform();
  const auto dac = make_input_driver(c);
  const auto arr = make_array_read(c);
  const auto adc = make_adc_bank(c);
  const auto dig = make_digital_unit(c);
  // DAC: all word lines at once; energy per driven line.
  EXPECT_EQ(dac->cost({64, 0, 0, 0.0}).t_ps, 2500u);
  EXPECT_DOUBLE_EQ(dac->cost({64, 0, 0, 0.0}).e_j, 64 * 0.25e-12);
  // Array: t_read; V^2 G t over the normalized sum: 3 * 0.25 V^2 * 400 nS * 20 ns = 6e-15 J.
  EXPECT_EQ(arr->cost({0, 0, 0, 3.0}).t_ps, 20000u);
  EXPECT_NEAR(arr->cost({0, 0, 0, 3.0}).e_j, 6e-15, 1e-27);
  // ADC: ceil(100 / 8) = 13 converters; 27 columns take ceil(27 / 13) = 3 rounds.
  EXPECT_EQ(adc->count(), 13);
  EXPECT_EQ(adc->cost({0, 27, 0, 0.0}).t_ps, 3u * 4000u);
  EXPECT_EQ(adc->cost({0, 26, 0, 0.0}).t_ps, 2u * 4000u);
  EXPECT_DOUBLE_EQ(adc->cost({0, 27, 0, 0.0}).e_j, 27 * 1.5e-12);
  // Digital: ceil(10 / 4) = 3 cycles of 4 ns.
  EXPECT_EQ(dig->cost({0, 0, 10, 0.0}).t_ps, 12000u);
  EXPECT_DOUBLE_EQ(dig->cost({0, 0, 10, 0.0}).e_j, 10 * 0.1e-12);
  // Each role charges its own ledger component.
  EXPECT_STREQ(dac->component(), "dac");
  EXPECT_STREQ(arr->component(), "array");
  EXPECT_STREQ(adc->component(), "adc");
  EXPECT_STREQ(dig->component(), "digital");
}

template <class Role>
void check_table(const std::vector<BlockKind<Role>>& kinds, const config::PlatformConfig& c) {
  ASSERT_FALSE(kinds.empty());
  std::set<std::string> names;
  for (const auto& k : kinds) {
    EXPECT_TRUE(names.insert(k.name).second) << "kind registered twice: " << k.name;
    EXPECT_NE(std::string(k.description), "");
    const auto block = k.make(c);
    ASSERT_NE(block, nullptr);
    EXPECT_STREQ(block->kind(), k.name);  // a kind reports the name it is registered under
  }
}

TEST(TileBlocks, KindTablesAreConsistent) {
  const config::PlatformConfig c = platform();
  check_table(input_driver_kinds(), c);
  check_table(array_read_kinds(), c);
  check_table(adc_kinds(), c);
  check_table(digital_unit_kinds(), c);
  EXPECT_STREQ(make_adc_bank(c, "shared_column")->kind(), "shared_column");
}

TEST(TileBlocks, UnknownKindIsRefusedNamingTheRoleAndTheKinds) {
  try {
    make_adc_bank(platform(), "sigma_delta");
    FAIL() << "an unknown ADC kind was built";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("ADC"), std::string::npos) << what;
    EXPECT_NE(what.find("sigma_delta"), std::string::npos) << what;
    EXPECT_NE(what.find("shared_column"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace aimc::chip
