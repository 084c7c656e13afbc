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

// A role's table holds the kinds of its list in config/block_kinds.h, in its order (the config's
// enum value is the index), each built under the name it is registered with.
template <class Role>
void check_table(const std::vector<BlockKind<Role>>& kinds, const char* const* config_names, int config_count,
                 const config::PlatformConfig& c) {
  ASSERT_FALSE(kinds.empty());
  ASSERT_EQ(kinds.size(), static_cast<size_t>(config_count));
  std::set<std::string> names;
  for (size_t i = 0; i < kinds.size(); ++i) {
    const auto& k = kinds[i];
    EXPECT_STREQ(k.name, config_names[i]) << "table entry " << i;
    EXPECT_TRUE(names.insert(k.name).second) << "kind registered twice: " << k.name;
    EXPECT_NE(std::string(k.description), "");
    const auto block = k.make(c);
    ASSERT_NE(block, nullptr);
    EXPECT_STREQ(block->kind(), k.name);  // a kind reports the name it is registered under
  }
}

TEST(TileBlocks, KindTablesAreConsistent) {
  const config::PlatformConfig c = platform();
  check_table(input_driver_kinds(), config::kInputDriverKindNames, config::kInputDriverKindCount, c);
  check_table(array_read_kinds(), config::kArrayReadKindNames, config::kArrayReadKindCount, c);
  check_table(adc_kinds(), config::kAdcKindNames, config::kAdcKindCount, c);
  check_table(digital_unit_kinds(), config::kDigitalUnitKindNames, config::kDigitalUnitKindCount, c);
  EXPECT_STREQ(make_adc_bank(c, "shared_column")->kind(), "shared_column");
}

// The platform's kind keys choose the block each role builds.
TEST(TileBlocks, ConfiguredKindIsBuilt) {
  config::PlatformConfig c = platform();
  for (int i = 0; i < config::kAdcKindCount; ++i) {
    c.tile.adc.kind = static_cast<config::AdcKind>(i);
    EXPECT_STREQ(make_adc_bank(c)->kind(), config::kAdcKindNames[i]);
  }
  for (int i = 0; i < config::kInputDriverKindCount; ++i) {
    c.tile.dac.kind = static_cast<config::InputDriverKind>(i);
    EXPECT_STREQ(make_input_driver(c)->kind(), config::kInputDriverKindNames[i]);
  }
  for (int i = 0; i < config::kArrayReadKindCount; ++i) {
    c.tile.array.kind = static_cast<config::ArrayReadKind>(i);
    EXPECT_STREQ(make_array_read(c)->kind(), config::kArrayReadKindNames[i]);
  }
  for (int i = 0; i < config::kDigitalUnitKindCount; ++i) {
    c.tile.digital.kind = static_cast<config::DigitalUnitKind>(i);
    EXPECT_STREQ(make_digital_unit(c)->kind(), config::kDigitalUnitKindNames[i]);
  }
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
