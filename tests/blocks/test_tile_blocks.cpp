// The tile's blocks (chip/tile_blocks.h): each kind's time and energy against the formulas of
// chip/tile.h worked out by hand here, and the kind tables.
#include <cmath>
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
  c.tile.array.rows = 400;
  c.tile.array.cell_pitch_um = 0.5;      // C_bl = 400 x 0.5 x 0.2 fF = 40 fF
  c.tile.array.c_wire_ff_per_um = 0.2;   // C_wl = 100 x 2 x 0.5 x 0.2 fF = 20 fF
  c.tile.array.r_line_kohm = 10.0;       // R C_bl = 0.4 ns
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
  // Array: the bit line settles to half an LSB of the 8 b ADC, 9 ln 2 R C_bl = 9 x 0.693147 x
  // 0.4 ns = 2.495 ns, then t_read 20 ns. V^2 G t over the normalized sum: 3 * 0.25 V^2 * 400 nS
  // * 20 ns = 6e-15 J; no line charged (no row, no column) costs nothing more.
  EXPECT_EQ(arr->cost({0, 0, 0, 3.0}).t_ps, 22495u);
  EXPECT_NEAR(arr->cost({0, 0, 0, 3.0}).e_j, 6e-15, 1e-27);
  // Lines: 2 vectors, each charging 2 x 10 bit lines of 40 fF and 5 word lines of 20 fF to 0.5 V:
  // 2 x (800 + 100) fF x 0.25 V^2 = 450 fJ on top of the cells' 6 fJ.
  EXPECT_NEAR(arr->cost({5, 10, 0, 3.0, 2}).e_j, 6e-15 + 450e-15, 1e-27);
  EXPECT_EQ(arr->cost({5, 10, 0, 3.0, 2}).t_ps, 22495u);  // the read time does not depend on the block
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
  EXPECT_STREQ(make_adc_bank(c, "flash")->kind(), "flash");
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
    EXPECT_NE(what.find("sar, ramp, cco, flash"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace aimc::chip

namespace aimc::chip {
namespace {

// The reference point of the ADC laws: an 8 b converter of 10 ns, 1.67 pJ, 1200 um^2, 0.2 uW.
config::PlatformConfig adc_platform(config::AdcKind kind, int bits, int share = 8) {
  config::PlatformConfig c = platform();
  c.tile.array.cols = 400;
  c.tile.adc.kind = kind;
  c.tile.adc.bits = bits;
  c.tile.adc.share = share;
  c.tile.adc.ref_bits = 8;
  c.tile.adc.t_conv_ns = 10.0;
  c.tile.adc.e_conv_pj = 1.67;
  c.tile.adc.area_um2 = 1200.0;
  c.tile.adc.p_static_uw = 0.2;
  c.tile.array.t_read_ns = 20.0;
  return c;
}

constexpr config::AdcKind kAllAdcKinds[] = {config::AdcKind::sar, config::AdcKind::ramp, config::AdcKind::cco,
                                            config::AdcKind::flash};

TEST(AdcLaws, EveryKindGivesItsReferenceFiguresAtItsReferenceBits) {
  for (config::AdcKind k : kAllAdcKinds) {
    const auto adc = make_adc_bank(adc_platform(k, 8));
    SCOPED_TRACE(adc->kind());
    EXPECT_DOUBLE_EQ(adc->e_conv_j(), 1.67e-12);
    EXPECT_DOUBLE_EQ(adc->area_um2(), adc->count() * 1200.0);
    EXPECT_DOUBLE_EQ(adc->p_static_w(), adc->count() * 0.2e-6);
  }
  // SAR and flash: 50 converters of 8 columns; ramp: a comparator per column; cco: 50 too.
  EXPECT_EQ(make_adc_bank(adc_platform(config::AdcKind::sar, 8))->count(), 50);
  EXPECT_EQ(make_adc_bank(adc_platform(config::AdcKind::ramp, 8))->count(), 400);
}

TEST(AdcLaws, EnergyPerConversionRisesWithBitsAsEachKindsLawSays) {
  for (int b = 4; b <= 10; ++b) {
    SCOPED_TRACE("bits " + std::to_string(b));
    const double sar = make_adc_bank(adc_platform(config::AdcKind::sar, b))->e_conv_j();
    const double ramp = make_adc_bank(adc_platform(config::AdcKind::ramp, b))->e_conv_j();
    const double cco = make_adc_bank(adc_platform(config::AdcKind::cco, b))->e_conv_j();
    const double flash = make_adc_bank(adc_platform(config::AdcKind::flash, b))->e_conv_j();
    EXPECT_NEAR(sar, 1.67e-12 * std::exp2((b - 8) / 4.0), 1e-24);  // above the survey bound up to 10 b
    EXPECT_NEAR(ramp, 1.67e-12 * std::exp2(b - 8), 1e-24);
    EXPECT_NEAR(cco, 1.67e-12 * std::exp2(b - 8), 1e-24);
    EXPECT_NEAR(flash, 1.67e-12 * (std::exp2(b) - 1) / 255.0, 1e-24);
    if (b > 4) {
      EXPECT_GT(sar, make_adc_bank(adc_platform(config::AdcKind::sar, b - 1))->e_conv_j());
      EXPECT_GT(flash, make_adc_bank(adc_platform(config::AdcKind::flash, b - 1))->e_conv_j());
    }
  }
  // The scaled ISAAC SAR points of reference-chips 5b, within the fit's 6 %.
  const std::pair<int, double> isaac[] = {{4, 0.79}, {6, 1.20}, {10, 2.38}};
  for (const auto& [b, pj] : isaac)
    EXPECT_NEAR(make_adc_bank(adc_platform(config::AdcKind::sar, b))->e_conv_j() / (pj * 1e-12), 1.0, 0.06) << b;
  // At 12 b the thermal-noise bound takes over: 12.2 pJ below the 174 MHz knee (5b).
  const double sar12 = make_adc_bank(adc_platform(config::AdcKind::sar, 12))->e_conv_j();
  EXPECT_NEAR(sar12, 12.2e-12, 0.1e-12);
  EXPECT_DOUBLE_EQ(sar12, block_math::adc_energy_bound_j(12, 1e9 / (10.0 * 14 / 10)));
}

TEST(AdcLaws, SurveyBoundMatchesTheCitedPoints) {
  // reference-chips 5b: flat below the knee 4 b 0.19 fJ, 8 b 47.6 fJ, 10 b 0.76 pJ; at 1 GS/s 8 b 0.64 pJ.
  EXPECT_NEAR(block_math::adc_energy_bound_j(4, 1e6), 0.19e-15, 0.01e-15);
  EXPECT_NEAR(block_math::adc_energy_bound_j(8, 1e6), 47.6e-15, 0.2e-15);
  EXPECT_NEAR(block_math::adc_energy_bound_j(10, 1e6), 0.76e-12, 0.01e-12);
  EXPECT_NEAR(block_math::adc_energy_bound_j(8, 1e9), 0.64e-12, 0.01e-12);
}

TEST(AdcLaws, ConversionTimeFollowsEachKind) {
  for (int b = 4; b <= 10; ++b) {
    SCOPED_TRACE("bits " + std::to_string(b));
    // SAR: (b + 2) cycles of 1 ns (10 ns at 8 b); 400 columns over 50 converters = 8 rounds.
    EXPECT_EQ(make_adc_bank(adc_platform(config::AdcKind::sar, b))->cost({0, 400, 0, 0.0}).t_ps,
              8u * static_cast<uint64_t>(std::llround(1000.0 * (b + 2))));
    // Ramp: one ramp for all columns, doubling per bit.
    const uint64_t ramp = make_adc_bank(adc_platform(config::AdcKind::ramp, b))->cost({0, 400, 0, 0.0}).t_ps;
    EXPECT_EQ(ramp, static_cast<uint64_t>(std::llround(10000.0 * std::exp2(b - 8))));
    if (b > 4) {
      EXPECT_EQ(ramp, 2 * make_adc_bank(adc_platform(config::AdcKind::ramp, b - 1))->cost({0, 400, 0, 0.0}).t_ps);
    }
    // Flash: one clock whatever the bits.
    EXPECT_EQ(make_adc_bank(adc_platform(config::AdcKind::flash, b))->cost({0, 400, 0, 0.0}).t_ps, 8u * 10000u);
  }
  // CCO, one per column (share 1): the 2^b window overlaps the 20 ns integration; 8 b (10 ns)
  // ends within it, 10 b (40 ns) runs 20 ns beyond.
  EXPECT_EQ(make_adc_bank(adc_platform(config::AdcKind::cco, 8, 1))->cost({0, 400, 0, 0.0}).t_ps, 0u);
  EXPECT_EQ(make_adc_bank(adc_platform(config::AdcKind::cco, 10, 1))->cost({0, 400, 0, 0.0}).t_ps, 20000u);
}

TEST(AdcLaws, MoreSharingNeverConvertsFasterAndFewerConvertersTakeLessAreaAndLeakage) {
  for (config::AdcKind k : kAllAdcKinds) {
    uint64_t t_prev = 0;
    double area_prev = 1e300, leak_prev = 1e300;
    for (int share : {1, 2, 4, 8, 16, 50, 400}) {
      const auto adc = make_adc_bank(adc_platform(k, 8, share));
      SCOPED_TRACE(std::string(adc->kind()) + " share " + std::to_string(share));
      const uint64_t t = adc->cost({0, 400, 0, 0.0}).t_ps;
      EXPECT_GE(t, t_prev);
      EXPECT_LE(adc->area_um2(), area_prev);
      EXPECT_LE(adc->p_static_w(), leak_prev);
      EXPECT_DOUBLE_EQ(adc->cost({0, 400, 0, 0.0}).e_j, 400 * adc->e_conv_j());  // energy per conversion
      t_prev = t;
      area_prev = adc->area_um2();
      leak_prev = adc->p_static_w();
    }
  }
  // Area grows with the converter count: 8 columns per SAR -> 50, 1 per SAR -> 400.
  EXPECT_DOUBLE_EQ(make_adc_bank(adc_platform(config::AdcKind::sar, 8, 1))->area_um2(),
                   8 * make_adc_bank(adc_platform(config::AdcKind::sar, 8, 8))->area_um2());
}

TEST(BlockLaws, DacEnergyDoublesPerBitAndSettlingGrowsWithBits) {
  config::PlatformConfig c = platform();
  c.tile.dac.ref_bits = 8;
  c.tile.dac.t_conv_ns = 1.0;
  c.tile.dac.e_conv_pj = 0.5;
  c.tile.dac.area_um2 = 1.33;
  c.tile.array.rows = 400;
  for (int b = 1; b <= 8; ++b) {
    c.tile.dac.bits = b;
    const auto dac = make_input_driver(c);
    EXPECT_NEAR(dac->cost({100, 0, 0, 0.0}).e_j, 100 * 0.5e-12 * std::exp2(b - 8), 1e-24) << b;
    EXPECT_EQ(dac->cost({100, 0, 0, 0.0}).t_ps, static_cast<uint64_t>(std::llround(1000.0 * (b + 1) / 9.0))) << b;
    EXPECT_NEAR(dac->area_um2(), 400 * 1.33 * b / 8.0, 1e-9) << b;
  }
  // The MNSIM menu (reference-chips 5c): 2 b at 7.8 uW and 1 GS/s is 7.8 fJ per conversion.
  c.tile.dac.bits = 2;
  EXPECT_NEAR(make_input_driver(c)->cost({1, 0, 0, 0.0}).e_j, 7.8e-15, 0.1e-15);
}

// The array read's lines (docs/chip-model.md, "Block kinds", array read): a bit line spans every
// row of the array, so a taller array charges more capacitance through the same resistance.
config::PlatformConfig array_platform(int rows) {
  config::PlatformConfig c = platform();
  c.tile.array.rows = rows;
  c.tile.array.cols = 100;
  c.tile.array.cell_pitch_um = 0.574;
  c.tile.array.c_wire_ff_per_um = 0.2;
  c.tile.array.r_line_kohm = 5.0;
  c.tile.array.t_read_ns = 100.0;
  c.tile.array.v_read_v = 1.0;
  c.tile.adc.bits = 8;
  return c;
}

TEST(ArrayLaws, ReadTimeGrowsWithTheRowsTheBitLineSpans) {
  uint64_t t_prev = 0;
  for (int rows : {64, 128, 256, 400, 1024}) {
    SCOPED_TRACE("rows " + std::to_string(rows));
    const auto arr = make_array_read(array_platform(rows));
    // t = t_read + (b + 1) ln 2 R C_bl, C_bl = rows x 0.574 um x 0.2 fF/um.
    const double c_bl_f = rows * 0.574 * 0.2e-15;
    const double t_ns = 100.0 + 9 * std::log(2.0) * 5e3 * c_bl_f * 1e9;
    EXPECT_EQ(arr->cost({}).t_ps, static_cast<uint64_t>(std::llround(t_ns * 1000)));
    EXPECT_GT(arr->cost({}).t_ps, t_prev);
    t_prev = arr->cost({}).t_ps;
  }
  // 1024 rows settle 16x longer than 64 rows: 3.67 ns (117.5 fF) against 0.23 ns (7.3 fF).
  const uint64_t t64 = make_array_read(array_platform(64))->cost({}).t_ps;
  const uint64_t t1024 = make_array_read(array_platform(1024))->cost({}).t_ps;
  EXPECT_NEAR(static_cast<double>(t1024 - 100000), 16.0 * static_cast<double>(t64 - 100000), 16.0);
  // Half an LSB of a finer ADC takes longer: (b + 1) time constants of ln 2.
  config::PlatformConfig c = array_platform(400);
  c.tile.adc.bits = 12;
  const uint64_t t12 = make_array_read(c)->cost({}).t_ps;
  const uint64_t t8 = make_array_read(array_platform(400))->cost({}).t_ps;
  EXPECT_NEAR(static_cast<double>(t12 - 100000) / static_cast<double>(t8 - 100000), 13.0 / 9.0, 1e-3);
}

TEST(ArrayLaws, LineEnergyIsProportionalToTheColumnsUsedAndToTheBitLineCapacitance) {
  const auto arr = make_array_read(array_platform(400));
  // Bit lines only (no word line driven, no cell current): 2 x cols_used x C_bl x v^2 per vector.
  const double c_bl_f = 400 * 0.574 * 0.2e-15;  // 45.92 fF
  BlockOp op;
  op.cols = 10;
  EXPECT_NEAR(arr->cost(op).e_j, 2 * 10 * c_bl_f, 1e-9 * 2 * 10 * c_bl_f);
  op.cols = 40;
  EXPECT_NEAR(arr->cost(op).e_j, 4 * arr->cost({0, 10}).e_j, 1e-27);
  op.vectors = 3;  // once per vector
  EXPECT_NEAR(arr->cost(op).e_j, 3 * 4 * arr->cost({0, 10}).e_j, 1e-27);
  // Twice the rows: twice C_bl, twice the bit-line energy of the same columns.
  EXPECT_NEAR(make_array_read(array_platform(800))->cost({0, 10}).e_j, 2 * arr->cost({0, 10}).e_j, 1e-27);
  // Word lines: rows_used x C_wl x v^2, C_wl = array.cols x 2 cells x 0.574 um x 0.2 fF/um.
  const double c_wl_f = 100 * 2 * 0.574 * 0.2e-15;
  EXPECT_NEAR(arr->cost({7, 0}).e_j, 7 * c_wl_f, 1e-9 * 7 * c_wl_f);
  // v_read^2: half the voltage, a quarter of the energy.
  config::PlatformConfig half = array_platform(400);
  half.tile.array.v_read_v = 0.5;
  EXPECT_NEAR(make_array_read(half)->cost({7, 10}).e_j, 0.25 * arr->cost({7, 10}).e_j, 1e-27);
}

TEST(ArrayLaws, WithoutLinesTheReadIsTheOldFlatIntegration) {
  // The reference case: no wire capacitance (or no resistance) gives t_read and V^2 G t exactly.
  config::PlatformConfig c = array_platform(1024);
  c.tile.array.t_read_ns = 20.0;
  c.tile.array.v_read_v = 0.5;
  c.tile.device.g_max_ns = 400.0;
  c.tile.array.c_wire_ff_per_um = 0.0;
  const auto flat = make_array_read(c);
  EXPECT_EQ(flat->cost({400, 100, 0, 3.0, 5}).t_ps, 20000u);
  EXPECT_EQ(flat->cost({400, 100, 0, 3.0, 5}).e_j, 3.0 * 0.5 * 0.5 * (400.0 * 1e-9) * (20.0 * 1e-9));
  c.tile.array.c_wire_ff_per_um = 0.2;
  c.tile.array.r_line_kohm = 0.0;  // lines charged at once: no settling, the energy remains
  EXPECT_EQ(make_array_read(c)->cost({}).t_ps, 20000u);
  EXPECT_GT(make_array_read(c)->cost({400, 100, 0, 3.0, 5}).e_j, flat->cost({400, 100, 0, 3.0, 5}).e_j);
}

TEST(ArrayLaws, StaticPowerIsTheConfiguredSensePath) {
  config::PlatformConfig c = array_platform(400);
  c.tile.array.p_static_uw = 4.0;
  EXPECT_DOUBLE_EQ(make_array_read(c)->p_static_w(), 4e-6);
  c.tile.array.p_static_uw = 0.0;
  EXPECT_EQ(make_array_read(c)->p_static_w(), 0.0);
}

// The tile's MVM time and the compiler's are the one composition of the blocks' times.
TEST(ArrayLaws, MvmTimeIsDacThenArrayThenAdc) {
  const config::PlatformConfig c = array_platform(1024);
  const auto dac = make_input_driver(c);
  const auto arr = make_array_read(c);
  const auto adc = make_adc_bank(c);
  for (int cols : {1, 13, 27, 100})
    EXPECT_EQ(mvm_time_ps(*dac, *arr, *adc, cols),
              dac->cost({}).t_ps + arr->cost({}).t_ps + adc->cost({0, cols}).t_ps) << cols;
  EXPECT_GT(mvm_time_ps(*dac, *arr, *adc, 27), mvm_time_ps(*dac, *make_array_read(array_platform(64)), *adc, 27));
}

// Input encodings (docs/chip-model.md, "Block kinds", input driver).
config::PlatformConfig encoding_platform(config::InputDriverKind kind, int bits) {
  config::PlatformConfig c = array_platform(400);
  c.tile.dac.kind = kind;
  c.tile.dac.bits = bits;
  c.tile.dac.ref_bits = 8;
  c.tile.dac.t_conv_ns = 1.0;
  c.tile.dac.e_conv_pj = 0.5;
  c.tile.dac.area_um2 = 1.33;
  c.tile.dac.t_lsb_ns = 1.0;
  return c;
}

TEST(EncodingLaws, BitSerialInputTimeIsProportionalToTheInputBits) {
  const auto one = encoding_platform(config::InputDriverKind::bit_serial, 1);
  const auto arr = make_array_read(one);
  const auto adc = make_adc_bank(one);
  const uint64_t t1 = mvm_time_ps(*make_input_driver(one), *arr, *adc, 100);
  // One pass: the 1-bit drive (the voltage law at one bit, 2/9 ns), the array read, 13 ADC rounds.
  EXPECT_EQ(t1, 222u + arr->cost({}).t_ps + adc->cost({0, 100}).t_ps);
  for (int b = 1; b <= 8; ++b) {
    const auto c = encoding_platform(config::InputDriverKind::bit_serial, b);
    const auto dac = make_input_driver(c);
    EXPECT_EQ(dac->encoding().passes(), b);
    EXPECT_EQ(mvm_time_ps(*dac, *arr, *adc, 100), static_cast<uint64_t>(b) * t1) << b;
    // Per pass and row the voltage law at one bit: 0.5 pJ x 2^(1 - 8) = 3.9 fJ (MNSIM 1 b, 3.9 uW at 1 GS/s).
    EXPECT_NEAR(dac->cost({100, 0}).e_j, 100 * 0.5e-12 / 128, 1e-24) << b;
    EXPECT_NEAR(dac->area_um2(), 400 * 1.33 / 8, 1e-9) << b;
  }
  // The voltage DAC takes one pass whatever its bits.
  const auto v8 = encoding_platform(config::InputDriverKind::voltage, 8);
  EXPECT_EQ(make_input_driver(v8)->encoding().passes(), 1);
  EXPECT_LT(mvm_time_ps(*make_input_driver(v8), *arr, *adc, 100),
            mvm_time_ps(*make_input_driver(encoding_platform(config::InputDriverKind::bit_serial, 8)), *arr, *adc, 100));
}

TEST(EncodingLaws, PulseWidthWindowDoublesPerBitAndCellEnergyFollowsThePulseLength) {
  for (int b = 1; b <= 8; ++b) {
    const auto c = encoding_platform(config::InputDriverKind::pwm, b);
    const auto dac = make_input_driver(c);
    EXPECT_EQ(dac->cost({}).t_ps, static_cast<uint64_t>(1000) << b) << b;  // 2^b x 1 ns
    EXPECT_NEAR(dac->cost({100, 0}).e_j, 100 * 0.5e-12 * b / 8, 1e-24) << b;
    EXPECT_EQ(dac->encoding().passes(), 1);
  }
  const auto c = encoding_platform(config::InputDriverKind::pwm, 8);
  const auto arr = make_array_read(c);
  BlockOp op;
  op.enc = make_input_driver(c)->encoding();
  op.vectors = 0;  // cells only
  // The array's own time is the settling alone: the window is the driver's.
  const double c_bl_f = 400 * 0.574 * 0.2e-15;
  EXPECT_EQ(arr->cost(op).t_ps, static_cast<uint64_t>(std::llround(9 * std::log(2.0) * 5e3 * c_bl_f * 1e12)));
  // Each cell conducts at v_read for code x t_lsb = v x 255 ns: linear in v, not v^2.
  op.sum_vg = 2.0;
  op.sum_v2g = 0.5;  // ignored by a duration read
  const double e = arr->cost(op).e_j;
  EXPECT_NEAR(e, 2.0 * 1.0 * (400.0 * 1e-9) * (255.0 * 1e-9), 1e-9 * e);
  op.sum_vg = 4.0;
  EXPECT_NEAR(arr->cost(op).e_j, 2 * e, 1e-9 * e);
  // A voltage read of the same cells integrates v^2 G for t_read instead.
  op.enc = make_input_driver(encoding_platform(config::InputDriverKind::voltage, 8))->encoding();
  EXPECT_NEAR(arr->cost(op).e_j, 0.5 * (400.0 * 1e-9) * (100.0 * 1e-9), 1e-30);
}

// A CCO counts while the array integrates (reference-chips 3b: HERMES's CCO ADCs run during the
// 128 ns of 8-bit PWM integration). With pulse-width inputs the integration is the driver's window,
// 2^bits x t_lsb, not tile.array.t_read_ns (which a pwm read does not use): the conversion hides in
// the window as long as it fits.
TEST(EncodingLaws, CcoConversionOverlapsThePulseWidthWindow) {
  config::PlatformConfig c = encoding_platform(config::InputDriverKind::pwm, 7);  // window 128 ns
  c.tile.adc.kind = config::AdcKind::cco;
  c.tile.adc.share = 1;
  c.tile.adc.ref_bits = 8;
  c.tile.adc.t_conv_ns = 76.8;         // 2^8 counts x 300 ps (3b)
  c.tile.array.t_read_ns = 20.0;       // not the read time of a pwm read
  for (int bits : {8, 9, 10}) {
    c.tile.adc.bits = bits;
    const auto dac = make_input_driver(c);
    const auto arr = make_array_read(c);
    const auto adc = make_adc_bank(c);
    BlockOp op;
    op.cols = 100;
    op.enc = dac->encoding();
    const uint64_t t_conv = static_cast<uint64_t>(std::llround(76.8 * std::exp2(bits - 8) * 1000.0));
    const uint64_t beyond = t_conv > 128000u ? t_conv - 128000u : 0u;  // what the 128 ns window does not hide
    EXPECT_EQ(adc->cost(op).t_ps, beyond) << bits;
    EXPECT_EQ(mvm_time_ps(*dac, *arr, *adc, 100), 128000u + arr->cost(op).t_ps + beyond) << bits;
  }
  // 8 bits (76.8 ns) fit the window: none beyond it (counted against t_read_ns = 20 ns it was 56.8 ns).
  c.tile.adc.bits = 8;
  BlockOp op;
  op.cols = 100;
  op.enc = make_input_driver(c)->encoding();
  EXPECT_EQ(make_adc_bank(c)->cost(op).t_ps, 0u);
  // Amplitude-coded inputs still overlap tile.array.t_read_ns.
  op.enc = InputEncoding{};
  EXPECT_EQ(make_adc_bank(c)->cost(op).t_ps, 76800u - 20000u);
}

// Multi-phase reads (IBM HERMES, reference-chips 3a Table I: 4-phase 520 ns against 1-phase 133 ns
// for the same MVM, 3.9x): every phase is a drive, a read and its conversions.
TEST(EncodingLaws, EveryReadPhaseTakesADriveAReadAndItsConversions) {
  config::PlatformConfig c = encoding_platform(config::InputDriverKind::voltage, 8);
  const auto dac = make_input_driver(c);
  const auto adc = make_adc_bank(c);
  const uint64_t t1 = mvm_time_ps(*dac, *make_array_read(c), *adc, 100);
  EXPECT_EQ(t1, mvm_pass_time_ps(*dac, *make_array_read(c), *adc, 100));
  for (int phases : {2, 4}) {
    c.tile.array.read_phases = phases;
    const auto arr = make_array_read(c);
    EXPECT_EQ(arr->phases(), phases);
    EXPECT_EQ(mvm_time_ps(*dac, *arr, *adc, 100), static_cast<uint64_t>(phases) * t1) << phases;
  }
}

TEST(BlockLaws, AreaGrowsWithTheArrayAndTheLanes) {
  config::PlatformConfig c = platform();
  c.tile.array.cell_area_um2 = 0.33;
  c.tile.array.rows = 64;
  c.tile.array.cols = 64;
  const double small = make_array_read(c)->area_um2();
  EXPECT_DOUBLE_EQ(small, 2 * 64 * 64 * 0.33);  // two cells per weight
  c.tile.array.rows = c.tile.array.cols = 1024;
  EXPECT_DOUBLE_EQ(make_array_read(c)->area_um2(), 256 * small);
  c.tile.digital.lane_area_um2 = 1200.0;
  c.tile.digital.lanes = 16;
  EXPECT_DOUBLE_EQ(make_digital_unit(c)->area_um2(), 16 * 1200.0);
}

}  // namespace
}  // namespace aimc::chip

namespace aimc::chip {
namespace {

// Each kind of digital operation costs its own energy per element (reference-chips 5a in the
// preset); the time depends on the count only.
TEST(BlockLaws, DigitalEnergyFollowsTheKindOfOperation) {
  config::PlatformConfig c = platform();
  c.tile.digital.e_op_pj = 0.33;
  c.tile.digital.e_compare_pj = 0.03;
  c.tile.digital.e_accumulate_pj = 0.1;
  c.tile.digital.e_mac_pj = 0.3;
  c.tile.digital.e_float_op_pj = 2.3;
  c.tile.digital.p_static_uw = 2.0;
  const auto dig = make_digital_unit(c);
  const std::pair<DigitalWork, double> kinds[] = {{DigitalWork::requantize, 0.33}, {DigitalWork::compare, 0.03},
                                                  {DigitalWork::accumulate, 0.1}, {DigitalWork::mac, 0.3},
                                                  {DigitalWork::float_op, 2.3}};
  BlockOp op;
  op.element_ops = 10;
  const uint64_t t = dig->cost(op).t_ps;
  for (const auto& [work, pj] : kinds) {
    op.work = work;
    EXPECT_DOUBLE_EQ(dig->cost(op).e_j, 10 * pj * 1e-12) << static_cast<int>(work);
    EXPECT_EQ(dig->cost(op).t_ps, t);
  }
  EXPECT_DOUBLE_EQ(dig->p_static_w(), 2e-6);
}

}  // namespace
}  // namespace aimc::chip
