// A tile's latency and energy are the config's formulas (model/chip/tile.h), measured through the
// whole platform: a one-layer network on one tile, driven by the firmware driver.
#include <gtest/gtest.h>

#include <cmath>

#include "compiler/image.h"
#include "harness.h"

namespace aimc::testing {
namespace {

compiler::Network one_layer(int in, int out, uint64_t seed) {
  std::srand(static_cast<unsigned>(seed));
  compiler::Network net;
  net.name = "one-layer";
  net.in_features = in;
  compiler::DenseLayer l;
  l.name = "fc";
  l.weight = Eigen::MatrixXf::Random(out, in);
  l.bias = Eigen::VectorXf::Random(out) * 0.1f;
  l.relu = false;
  net.layers.push_back(l);
  return net;
}

TEST(PlatformTile, LatencyAndEnergyFollowTheConfigFormulas) {
  constexpr int kIn = 20, kOut = 10, kVectors = 6;
  const config::PlatformConfig cfg = preset();
  const compiler::Network net = one_layer(kIn, kOut, 7);
  const Eigen::MatrixXf calib = (Eigen::MatrixXf::Random(64, kIn).array() + 1.0f) * 0.5f;
  const compiler::CompiledModel cm = compiler::compile(net, cfg, calib);
  const compiler::ImageView img = compiler::parse_image(cm.image);
  const Eigen::MatrixXf x = (Eigen::MatrixXf::Random(kVectors, kIn).array() + 1.0f) * 0.5f;

  Bench b(cfg);
  uint64_t single_latency_ps = 0, t_infer_ps = 0, t_end_ps = 0;
  int rc_init = -99, rc_load = -99, rc_a = -99, rc_b = -99;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    rc_init = aimc_init(&dev, hal);
    rc_load = aimc_load_image(&dev, cm.image.data(), cm.image.size());
    b.chip.cpu().sync();
    t_infer_ps = b.now_ps();
    b.ledger.set_phase(sim::Phase::infer, t_infer_ps);
    std::vector<float> xs = row_major(x);
    std::vector<uint8_t> codes(xs.size());
    aimc_quantize_inputs(&dev, xs.data(), xs.size(), codes.data());
    std::vector<int32_t> out(kVectors * kOut);
    rc_a = aimc_infer(&dev, codes.data(), 1, out.data());
    single_latency_ps = b.chip.sequencer().last_latency_ps();
    rc_b = aimc_infer(&dev, codes.data() + kIn, kVectors - 1, out.data() + kOut);
    b.chip.cpu().sync();
    b.ledger.advance(b.now_ps());
    t_end_ps = b.now_ps();
  });
  ASSERT_EQ(rc_init, AIMC_OK);
  ASSERT_EQ(rc_load, AIMC_OK);
  ASSERT_EQ(rc_a, AIMC_OK);
  ASSERT_EQ(rc_b, AIMC_OK);

  // Timing of one MVM, from the config (not from the tile's own helper). The array read: the bit
  // line, spanning every row of the array, settles to half an ADC LSB through r_line, then the
  // cells integrate for t_read.
  const auto& t = cfg.tile;
  const double c_bl_f = t.array.rows * t.array.cell_pitch_um * t.array.c_wire_ff_per_um * 1e-15;
  const double c_wl_f = t.array.cols * 2 * t.array.cell_pitch_um * t.array.c_wire_ff_per_um * 1e-15;
  const double t_settle_ns = (t.adc.bits + 1) * std::log(2.0) * t.array.r_line_kohm * 1e3 * c_bl_f * 1e9;
  ASSERT_GT(t_settle_ns, 0.0) << "the preset models the lines";
  const uint64_t n_adc = (t.array.cols + t.adc.share - 1) / t.adc.share;
  const uint64_t rounds = (kOut + n_adc - 1) / n_adc;
  const uint64_t t_mvm = std::llround(t.dac.t_conv_ns * 1000) + std::llround((t.array.t_read_ns + t_settle_ns) * 1000) +
                         rounds * std::llround(t.adc.t_conv_ns * 1000);
  chip::Tile& tile0 = *b.chip.tiles()[0];
  EXPECT_EQ(tile0.analog().busy_ps(), kVectors * t_mvm);
  EXPECT_EQ(tile0.analog().reservations(), static_cast<uint64_t>(kVectors));

  // One vector alone: input over the bus from SRAM, MVM, digital unit, output to SRAM.
  const uint64_t cycles = (kOut + t.digital.lanes - 1) / t.digital.lanes;
  const uint64_t t_dig = std::llround(cycles * 1e6 / t.digital.clock_mhz);
  const uint64_t sram = std::llround(cfg.sram.latency_ns * 1000);
  using sim::Endpoint;
  const uint64_t expected_latency =
      b.chip.bus().occupancy_ps(Endpoint::sram(), Endpoint::tile(0), kIn) + sram + t_mvm + t_dig +
      b.chip.bus().occupancy_ps(Endpoint::tile(0), Endpoint::sram(), 4 * kOut) + sram;
  EXPECT_EQ(single_latency_ps, expected_latency);

  // Energy of the inference phase, by component: the events (dynamic part) ...
  auto comp = [&](const char* name) {
    const int c = b.ledger.component(name);
    return b.ledger.component_phase_j(c, sim::Phase::infer) - b.ledger.component_phase_static_j(c, sim::Phase::infer);
  };
  // ... and the ADCs' leakage over the phase: every converter of every tile, the chip being active.
  const double adc_static = b.ledger.component_phase_static_j(b.ledger.component("adc"), sim::Phase::infer);
  EXPECT_NEAR(adc_static,
              cfg.tile_count() * static_cast<double>(tile0.adc_count()) * cfg.tile.adc.p_static_uw * 1e-6 *
                  (t_end_ps - t_infer_ps) * 1e-12,
              1e-9 * adc_static);
  EXPECT_GT(adc_static, 0.0);
  // The arrays' sense path likewise: one array per tile.
  const double array_static = b.ledger.component_phase_static_j(b.ledger.component("array"), sim::Phase::infer);
  EXPECT_NEAR(array_static,
              cfg.tile_count() * cfg.tile.array.p_static_uw * 1e-6 * (t_end_ps - t_infer_ps) * 1e-12,
              1e-9 * array_static);
  EXPECT_GT(array_static, 0.0);
  EXPECT_DOUBLE_EQ(comp("dac"), kVectors * kIn * t.dac.e_conv_pj * 1e-12);
  EXPECT_DOUBLE_EQ(comp("adc"), kVectors * kOut * t.adc.e_conv_pj * 1e-12);
  EXPECT_DOUBLE_EQ(comp("digital"), kVectors * kOut * t.digital.e_op_pj * 1e-12);
  // Array: V^2 * G * t_read of every cell read, from the programmed conductances, and per vector
  // the lines charged to v_read: two bit lines per used column, every used word line.
  const float cmax = 255.0f;
  double sum_v2g = 0;
  for (int v = 0; v < kVectors; ++v)
    for (int i = 0; i < kIn; ++i) {
      const float code = std::min(cmax, std::round(x(v, i) / img.program.in_scale));
      const double volt = code / cmax;
      double g_row = 0;
      for (int j = 0; j < kOut; ++j)
        g_row += tile0.crossbar().g_pos()(i, j) + tile0.crossbar().g_neg()(i, j);
      sum_v2g += volt * volt * g_row;
    }
  const double e_cells =
      sum_v2g * t.array.v_read_v * t.array.v_read_v * t.device.g_max_ns * 1e-9 * t.array.t_read_ns * 1e-9;
  const double e_lines = kVectors * (2.0 * kOut * c_bl_f + kIn * c_wl_f) * t.array.v_read_v * t.array.v_read_v;
  const double e_array = e_cells + e_lines;
  // The kernel sums in float32 (eps 1.2e-7) over kIn * kOut = 200 cells per vector: a relative
  // error bound of 200 * 1.2e-7 = 2.4e-5 on the cells' part.
  EXPECT_NEAR(comp("array"), e_array, 2.4e-5 * e_cells + 1e-12 * e_lines);
  EXPECT_GT(e_cells, 0.0);
  EXPECT_GT(e_lines, 0.0);
}

// The register-driven reads charge the array too: the zero-input TEST drives every line of the
// array (no cell current), the drift-compensation CAL read one full-scale vector over the used
// block (its cells' V^2 G t and its lines).
TEST(PlatformTile, TestAndCalibrationReadsChargeTheArray) {
  constexpr int kIn = 20, kOut = 10;
  const config::PlatformConfig cfg = preset();
  const compiler::Network net = one_layer(kIn, kOut, 11);
  const Eigen::MatrixXf calib = (Eigen::MatrixXf::Random(64, kIn).array() + 1.0f) * 0.5f;
  const compiler::CompiledModel cm = compiler::compile(net, cfg, calib);

  Bench b(cfg);
  const int array = b.ledger.component("array");
  auto dynamic_j = [&] { return b.ledger.component_j(array) - b.ledger.component_static_j(array); };
  double e_test = -1, e_cal = -1;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    double e0 = dynamic_j();
    wr(hal, AIMC_TILE_REG(0, AIMC_TREG_TEST), 1);
    e_test = dynamic_j() - e0;
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    e0 = dynamic_j();
    wr(hal, AIMC_TILE_REG(0, AIMC_TREG_CAL), 1);
    e_cal = dynamic_j() - e0;
  });
  const auto& a = cfg.tile.array;
  const double c_bl_f = a.rows * a.cell_pitch_um * a.c_wire_ff_per_um * 1e-15;
  const double c_wl_f = a.cols * 2 * a.cell_pitch_um * a.c_wire_ff_per_um * 1e-15;
  const double v2 = a.v_read_v * a.v_read_v;
  // TEST: 2 bit lines per column and every word line of the array, once.
  const double e_test_lines = (2.0 * a.cols * c_bl_f + a.rows * c_wl_f) * v2;
  EXPECT_NEAR(e_test, e_test_lines, 1e-12 * e_test_lines);
  EXPECT_GT(e_test, 0.0);
  // CAL: every used word line at full scale over the used block.
  const chip::Tile& tile0 = *b.chip.tiles()[0];
  ASSERT_EQ(tile0.rows_used(), kIn);
  ASSERT_EQ(tile0.cols_used(), kOut);
  double g_sum = 0;
  for (int i = 0; i < kIn; ++i)
    for (int j = 0; j < kOut; ++j) g_sum += tile0.crossbar().g_pos()(i, j) + tile0.crossbar().g_neg()(i, j);
  const double e_cells = g_sum * v2 * cfg.tile.device.g_max_ns * 1e-9 * a.t_read_ns * 1e-9;
  const double e_lines = (2.0 * kOut * c_bl_f + kIn * c_wl_f) * v2;
  EXPECT_NEAR(e_cal, e_cells + e_lines, 2.4e-5 * e_cells + 1e-12 * e_lines);  // float32 sums, as above
  EXPECT_GT(e_cells, 0.0);
}

}  // namespace
}  // namespace aimc::testing
