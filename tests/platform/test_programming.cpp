// The programming controller and the device physics as firmware sees them: deploy cost, yield,
// endurance, the temperature sensor, drift compensation and checkpoints. Every case is its own
// process (one elaboration each).
#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <filesystem>
#include <fstream>

#include "chip/checkpoint.h"
#include "compiler/image.h"
#include "harness.h"
#include "numerics/device.h"
#include "numerics/ir_drop.h"
#include "run_job.h"

namespace aimc::testing {
namespace {

uint32_t tile_reg(uint32_t tile, uint32_t off) { return AIMC_TILE_REG(tile, off); }

// The deploy phase costs exactly what the controller's formula says for the pulses the device
// model reports: erases, then per group of parallel_cells t_verify + max_pulses * (t_pulse +
// t_verify); energy pulses * e_pulse + verify_reads * e_verify + sectors * e_erase.
TEST(Programming, DeployCostIsIterationsTimesPerIterationCost) {
  const config::PlatformConfig cfg = preset();
  ASSERT_EQ(cfg.tile.device.type, config::DeviceType::flash);
  const compiler::CompiledModel cm = bundled(cfg);
  Bench b(cfg);
  struct Seen {
    int tile;
    num::ProgramResult r;
  };
  std::vector<Seen> seen;
  b.chip.programmer().set_record_sink([&](int tile, const num::ProgramResult& r) {
    seen.push_back({tile, r});
  });
  aimc_dev_t dev{};
  uint64_t t_load_ps = 0;
  b.run([&](aimc_hal_t hal) {
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    b.chip.cpu().sync();
    const uint64_t t0 = b.now_ps();
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    b.chip.cpu().sync();
    t_load_ps = b.now_ps() - t0;
  });
  ASSERT_FALSE(seen.empty());
  const auto& p = cfg.programming;
  const auto ps = [](double ns) { return static_cast<uint64_t>(std::llround(ns * 1000.0)); };
  uint64_t expect_ps = 0;
  long pulses = 0, reads = 0, cells = 0, sectors = 0;
  // The view must outlive the loop: `h` refers into it (binding into the temporary that
  // parse_image returns left a dangling reference, found by ASan).
  const compiler::ImageView img = compiler::parse_image(cm.image);
  for (const Seen& s : seen) {
    const aimc_weights_hdr_t& h = img.tile_weights(s.tile).hdr;
    const long sec = (static_cast<long>(h.rows) + p.erase_sector_rows - 1) / p.erase_sector_rows;
    sectors += sec;
    expect_ps += static_cast<uint64_t>(sec) * ps(p.t_erase_ns);
    const auto& per = s.r.pulses_per_cell;
    ASSERT_EQ(per.size(), 2u * h.rows * h.cols);
    for (size_t g = 0; g < per.size(); g += static_cast<size_t>(p.parallel_cells)) {
      int m = 0;
      for (size_t i = g; i < std::min(per.size(), g + p.parallel_cells); ++i) m = std::max<int>(m, per[i]);
      expect_ps += ps(p.t_verify_ns) + static_cast<uint64_t>(m) * (ps(p.t_pulse_ns) + ps(p.t_verify_ns));
    }
    for (uint16_t k : per) pulses += k;
    reads += s.r.verify_reads;
    cells += s.r.cells;
  }
  EXPECT_EQ(reads, pulses + cells);  // one read before the first pulse, one after each
  const chip::ProgrammingStats& st = b.chip.programmer().stats();
  EXPECT_EQ(st.busy_ps, expect_ps);
  EXPECT_EQ(st.pulses, pulses);
  EXPECT_GE(t_load_ps, expect_ps);  // the firmware waited at least that long (plus its DMA)
  // What the driver read back from PROG_CELLS / PROG_PULSES.
  EXPECT_EQ(dev.prog_cells, static_cast<uint64_t>(cells));
  EXPECT_EQ(dev.prog_pulses, static_cast<uint64_t>(pulses));
  // Energy by ledger component, deploy phase.
  const auto e = [&](const char* c) {
    return b.ledger.component_phase_j(b.ledger.component(c), sim::Phase::deploy);
  };
  EXPECT_NEAR(e("prog_pulse"), pulses * p.e_pulse_pj * 1e-12, 1e-9 * e("prog_pulse"));
  EXPECT_NEAR(e("prog_verify"), reads * p.e_verify_cell_pj * 1e-12, 1e-9 * e("prog_verify"));
  EXPECT_NEAR(e("prog_erase"), sectors * p.e_erase_nj * 1e-9, 1e-9 * e("prog_erase"));
  // The chip's static energy while the controller programmed: its static power in the ACTIVE
  // state (every tile, the bus, the SRAM, the host side) over the busy time.
  // (the preset's SAR ADCs at their reference bits: ceil(cols / share) per tile, each leaking p_static_uw;
  // one array per tile, its sense path drawing array.p_static_uw)
  const int adcs_per_tile = (cfg.tile.array.cols + cfg.tile.adc.share - 1) / cfg.tile.adc.share;
  const double p_static_w = (cfg.tile_count() * (cfg.tile.p_static_active_uw + cfg.tile.array.p_static_uw + cfg.tile.digital.p_static_uw +
                                                  adcs_per_tile * cfg.tile.adc.p_static_uw) +
                             cfg.bus.p_static_uw + cfg.sram.size_kib * cfg.sram.p_static_uw_per_kib + cfg.host.p_static_uw) * 1e-6;
  ASSERT_GT(p_static_w, 0.0);
  EXPECT_NEAR(st.static_j, p_static_w * static_cast<double>(expect_ps) * 1e-12, 1e-9 * st.static_j);
  EXPECT_GT(pulses, cells);  // flash needs several pulses per cell from the erased state
}

// Stuck cells and dead columns cannot reach their targets: the controller gives them up, counts
// them in PROG_UNCONVERGED and the tile's UNCONVERGED, and raises IRQ PROG_YIELD. With the ideal
// device every healthy cell lands exactly, so the count is known cell by cell.
TEST(Programming, YieldIsVisibleThroughRegistersAndInterrupt) {
  const config::PlatformConfig cfg =
      preset({"tile.device.type=ideal", "faults.stuck_low_rate=0.002",
              "faults.stuck_high_rate=0.001", "faults.dead_column_rate=0.01"});
  const compiler::CompiledModel cm = bundled(cfg);
  const compiler::ImageView img = compiler::parse_image(cm.image);
  Bench b(cfg);
  aimc_dev_t dev{};
  uint32_t irq_status = 0;
  std::map<uint32_t, uint32_t> tile_unconverged;
  b.run([&](aimc_hal_t hal) {
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    // The driver acknowledges sources that fire while it waits for another and keeps them.
    irq_status = rd(hal, AIMC_REG_IRQ_STATUS) | aimc_take_irqs(&dev);
    for (const auto& [t, w] : img.weights) tile_unconverged[t] = rd(hal, tile_reg(t, AIMC_TREG_UNCONVERGED));
  });
  long expected = 0;
  for (const auto& [t, w] : img.weights) {
    const chip::Tile& tile = *b.chip.tiles()[t];
    const num::CellState& c = tile.cells();
    const double g_min = cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns;
    long in_tile = 0;
    for (uint32_t r = 0; r < w.hdr.rows; ++r)
      for (uint32_t col = 0; col < w.hdr.cols; ++col) {
        const auto [tp, tn] = num::pair_targets(tile.physics().cell, w.level(r, col));
        for (int side = 0; side < 2; ++side) {
          const uint8_t f = side ? c.fault_neg(r, col) : c.fault_pos(r, col);
          const double target = side ? tn : tp;
          const bool missed = c.dead_col[col] ||
                              ((f & num::kStuckLow) && target != g_min) ||
                              ((f & num::kStuckHigh) && target != 1.0);
          in_tile += missed;
        }
      }
    EXPECT_EQ(tile_unconverged[t], static_cast<uint32_t>(in_tile)) << "tile " << t;
    expected += in_tile;
  }
  EXPECT_GT(expected, 100);  // the rates above hit hundreds of the ~470k cells
  EXPECT_EQ(dev.prog_unconverged, static_cast<uint64_t>(expected));
  EXPECT_EQ(b.chip.programmer().stats().unconverged, expected);
  EXPECT_TRUE(irq_status & AIMC_IRQ_PROG_YIELD);
}

// IR drop (tile.array.ir_drop) lowers what the array's parallel read sees, by the law of
// numerics/ir_drop.h on the tile's own block, and not what a lone cell read (READ_CELL, verify)
// sees. The ideal device puts every cell exactly on its target, so both are known exactly.
TEST(Programming, IrDropLowersTheArrayReadNotALoneCellRead) {
  const config::PlatformConfig cfg = preset({"tile.device.type=ideal", "tile.array.ir_drop=true"});
  const compiler::CompiledModel cm = bundled(cfg);
  Bench b(cfg);
  uint32_t far_ps = 0;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    const chip::Tile& t0 = *b.chip.tiles()[0];
    ASSERT_EQ(aimc_read_cell(&dev, 0, 0, static_cast<uint32_t>(t0.cols_used() - 1), 1, &far_ps), AIMC_OK);
  });
  const chip::Tile& t0 = *b.chip.tiles()[0];
  const int rows = t0.rows_used(), cols = t0.cols_used();
  ASSERT_GT(rows, 100);
  ASSERT_GT(cols, 100);
  const double g_max_s = cfg.tile.device.g_max_ns * 1e-9;
  // The lone read: the programmed conductance (pS), whatever the lines.
  EXPECT_NEAR(far_ps, t0.cells().g_neg(0, cols - 1) * g_max_s * 1e12, 1.0);
  // The parallel read: the law on the programmed block.
  Eigen::MatrixXf gp = t0.cells().g_pos, gn = t0.cells().g_neg;
  const double r_seg = cfg.tile.array.r_wire_ohm_per_um * cfg.tile.array.cell_pitch_um;
  num::apply_ir_drop(gp, gn, rows, cols, {r_seg, r_seg, g_max_s});
  const Eigen::MatrixXf& xp = t0.crossbar().g_pos();
  const Eigen::MatrixXf& xn = t0.crossbar().g_neg();
  EXPECT_EQ(xp.block(0, 0, rows, cols), gp.block(0, 0, rows, cols));
  EXPECT_EQ(xn.block(0, 0, rows, cols), gn.block(0, 0, rows, cols));
  // Far corner (row 0, last pair's negative cell) loses more than the near corner, and a loss at all.
  const double far = 1.0 - xn(0, cols - 1) / t0.cells().g_neg(0, cols - 1);
  const double near = 1.0 - xp(rows - 1, 0) / t0.cells().g_pos(rows - 1, 0);
  EXPECT_GT(near, 0.0);
  EXPECT_GT(far, 2.0 * near);
}

// Endurance: every flash erase is a cycle for each cell of the tile; past endurance_cycles the
// cells are worn (stuck) and the tile's CYCLES_MAX and WORN_CELLS say so.
TEST(Programming, EnduranceCountsEraseCyclesAndWearsCells) {
  const config::PlatformConfig cfg = preset({"tile.device.endurance_cycles=2"});
  Bench b(cfg);
  uint32_t cycles_2 = 0, worn_2 = 0, cycles_3 = 0, worn_3 = 0, other_tile = 0;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    for (int i = 0; i < 2; ++i) ASSERT_EQ(aimc_erase_tile(&dev, 1), AIMC_OK);
    cycles_2 = rd(hal, tile_reg(1, AIMC_TREG_CYCLES_MAX));
    worn_2 = rd(hal, tile_reg(1, AIMC_TREG_WORN_CELLS));
    ASSERT_EQ(aimc_erase_tile(&dev, 1), AIMC_OK);
    cycles_3 = rd(hal, tile_reg(1, AIMC_TREG_CYCLES_MAX));
    worn_3 = rd(hal, tile_reg(1, AIMC_TREG_WORN_CELLS));
    other_tile = rd(hal, tile_reg(2, AIMC_TREG_CYCLES_MAX));
  });
  const uint32_t cells = 2u * cfg.tile.array.rows * cfg.tile.array.cols;
  EXPECT_EQ(cycles_2, 2u);
  EXPECT_EQ(worn_2, 0u);
  EXPECT_EQ(cycles_3, 3u);
  EXPECT_EQ(worn_3, cells);
  EXPECT_EQ(other_tile, 0u);
}

// The die temperature sensor and its alarm: the environment sets the temperature, TEMP_MC reports
// it, and IRQ TEMP_ALARM fires once per excursion above TEMP_ALARM_MC.
TEST(Programming, TemperatureSensorAndAlarm) {
  const config::PlatformConfig cfg = preset();
  Bench b(cfg);
  int32_t t_start = 0, t_hot = 0;
  uint32_t irq_hot = 0, irq_hotter = 0, irq_again = 0;
  bool line_hot = false;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    wr(hal, AIMC_REG_IRQ_ENABLE, rd(hal, AIMC_REG_IRQ_ENABLE) | AIMC_IRQ_TEMP_ALARM);
    ASSERT_EQ(aimc_read_temperature(&dev, &t_start), AIMC_OK);
    b.chip.set_environment(90.0);
    ASSERT_EQ(aimc_read_temperature(&dev, &t_hot), AIMC_OK);
    irq_hot = rd(hal, AIMC_REG_IRQ_STATUS) & AIMC_IRQ_TEMP_ALARM;
    line_hot = b.chip.host().irq_level();
    wr(hal, AIMC_REG_IRQ_STATUS, AIMC_IRQ_TEMP_ALARM);
    b.chip.set_environment(95.0);  // still the same excursion: no new alarm
    irq_hotter = rd(hal, AIMC_REG_IRQ_STATUS) & AIMC_IRQ_TEMP_ALARM;
    b.chip.set_environment(60.0);  // back below: re-armed
    wr(hal, AIMC_REG_TEMP_ALARM_MC, 50000);  // a lower threshold: 60 C is above it
    irq_again = rd(hal, AIMC_REG_IRQ_STATUS) & AIMC_IRQ_TEMP_ALARM;
  });
  EXPECT_EQ(t_start, static_cast<int32_t>(std::lround(cfg.tile.device.t_ref_c * 1000)));
  EXPECT_EQ(t_hot, 90000);
  EXPECT_TRUE(irq_hot);
  EXPECT_TRUE(line_hot);
  EXPECT_FALSE(irq_hotter);
  EXPECT_TRUE(irq_again);
}

// Drift compensation on PCM: ten years of drift lower the conductances; the calibration read sees
// it and the driver sets each tile's GAIN to CAL_REF / CAL_NA (> 1).
TEST(Programming, DriftCompensationSetsGainFromCalibrationReads) {
  const config::PlatformConfig cfg = config::load_platform(source_dir() + "/platforms/pcm-3x4.yaml");
  const compiler::CompiledModel cm = bundled(cfg);
  const compiler::ImageView img = compiler::parse_image(cm.image);
  Bench b(cfg);
  std::map<uint32_t, std::array<uint32_t, 3>> seen;  // ref, now, gain
  uint32_t adjusted = 0;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    ASSERT_EQ(aimc_drift_reference(&dev), AIMC_OK);
    b.chip.set_environment(cfg.tile.device.t_ref_c, 10 * 365.25 * 86400.0);
    ASSERT_EQ(aimc_drift_compensate(&dev, &adjusted), AIMC_OK);
    for (const auto& [t, w] : img.weights)
      seen[t] = {rd(hal, tile_reg(t, AIMC_TREG_CAL_REF)), rd(hal, tile_reg(t, AIMC_TREG_CAL_NA)),
                 rd(hal, tile_reg(t, AIMC_TREG_GAIN))};
  });
  EXPECT_EQ(adjusted, img.weights.size());
  for (const auto& [t, v] : seen) {
    const auto [ref, now, gain] = v;
    EXPECT_GT(ref, now) << "tile " << t;  // PCM drift only lowers conductance (nu >= 0)
    EXPECT_EQ(gain, static_cast<uint32_t>((((uint64_t)ref << 16) + now / 2) / now)) << "tile " << t;
    EXPECT_GT(gain, 65536u) << "tile " << t;
  }
}

// 300 images of the bundled model on the PCM preset, ten years after programming.
app::RunOptions pcm_ten_years(bool drift_compensation) {
  app::RunOptions o;
  o.platform_path = source_dir() + "/platforms/pcm-3x4.yaml";
  o.model_path = model_path();
  o.data_dir = data_dir();
  o.limit = 300;
  o.report_path = "";
  o.progress = false;
  o.at_s = 10 * 365.25 * 86400.0;
  o.drift_compensation = drift_compensation;
  return o;
}

// The same, end to end: after ten years PCM loses accuracy, and compensation recovers most of it.
// One elaboration per process: the uncompensated run is the next test; both are compared with the
// float accuracy of the same images.
TEST(Programming, DriftCompensationRecoversPcmAccuracyAfterTenYears) {
  const auto r = app::run_job(pcm_ten_years(true));
  EXPECT_TRUE(r["conditions"]["drift_compensation"].get<bool>());
  EXPECT_GT(r["conditions"]["drift_compensated_tiles"].get<long>(), 0);
  // Measured at 1000 images: 83 % compensated against 60 % without and 89 % in float. With 300
  // images one binomial standard error is ~2.2 points: 10 points below float is > 4 sigma away.
  EXPECT_GT(r["accuracy"]["platform"].get<double>(), r["accuracy"]["float"].get<double>() - 0.10);
}

TEST(Programming, TenYearsOfPcmDriftCostAccuracyWithoutCompensation) {
  const auto r = app::run_job(pcm_ten_years(false));
  // Measured at 1000 images: 60 % against 89 % in float; 15 points is > 6 sigma at 300 images.
  EXPECT_LT(r["accuracy"]["platform"].get<double>(), r["accuracy"]["float"].get<double>() - 0.15);
  EXPECT_GT(r["weight_error_at_inference"]["relative_rms"].get<double>(), 0.3);
}

// A checkpoint restores into the same chip; a file for another model, or a corrupted one, is
// refused and changes nothing.
TEST(Programming, CheckpointRestoresAndRefusesBadFiles) {
  const config::PlatformConfig cfg = config::load_platform(source_dir() + "/platforms/pcm-3x4.yaml");
  const compiler::CompiledModel cm = bundled(cfg);
  Bench b(cfg);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("aimc-ckpt-" + std::to_string(::getpid()) + ".bin")).string();
  std::string bad_model, bad_sum;
  double g_before = 0, g_after = 0, g_after_bad = 0;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    chip::Tile& t0 = *b.chip.tiles()[0];
    t0.set_trim(3, 7);
    g_before = t0.conductance_s(1, 2, false);
    chip::save_checkpoint(path, b.chip, "model A");
    ASSERT_EQ(aimc_erase_tile(&dev, 0), AIMC_OK);
    t0.set_trim(3, 0);
    chip::restore_checkpoint(path, b.chip, "model A");
    g_after = t0.conductance_s(1, 2, false);
    EXPECT_TRUE(t0.programmed());
    EXPECT_EQ(t0.trim(3), 7);
    try {
      chip::restore_checkpoint(path, b.chip, "model B");
    } catch (const chip::CheckpointError& e) {
      bad_model = e.what();
    }
    {  // flip one byte in the middle
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path) / 2));
      f.put('\x5A');
    }
    ASSERT_EQ(aimc_erase_tile(&dev, 0), AIMC_OK);
    try {
      chip::restore_checkpoint(path, b.chip, "");
    } catch (const chip::CheckpointError& e) {
      bad_sum = e.what();
    }
    g_after_bad = t0.conductance_s(1, 2, false);
  });
  std::filesystem::remove(path);
  EXPECT_GT(g_before, 0);
  EXPECT_DOUBLE_EQ(g_after, g_before);
  EXPECT_NE(bad_model.find("another model"), std::string::npos) << bad_model;
  EXPECT_NE(bad_sum.find("checksum"), std::string::npos) << bad_sum;
  // The refused file changed nothing: the tile is still erased.
  EXPECT_NEAR(g_after_bad, cfg.tile.device.g_erased_ns * 1e-9, 1e-7 * cfg.tile.device.g_erased_ns * 1e-9);
}

// ADC offset faults are what firmware measures with the zero-input TEST (RESULT registers), and
// an inference that saturates an ADC raises IRQ ADC_CLIP.
TEST(Programming, AdcFaultsAndSaturationAreVisibleToFirmware) {
  const config::PlatformConfig cfg = preset(
      {"tile.device.type=ideal", "faults.adc_offset_rate=0.1", "faults.adc_offset_lsb=2"});
  const compiler::CompiledModel cm = bundled(cfg);
  Bench b(cfg);
  std::vector<int32_t> result(static_cast<size_t>(cfg.tile.array.cols));
  uint32_t irq_before = 0, irq_after = 0;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    wr(hal, AIMC_TILE_REG(2, AIMC_TREG_TEST), 1);
    for (int c = 0; c < cfg.tile.array.cols; ++c)
      result[static_cast<size_t>(c)] = static_cast<int32_t>(rd(hal, AIMC_TILE_REG(2, AIMC_TREG_RESULT(c))));
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    irq_before = (rd(hal, AIMC_REG_IRQ_STATUS) | aimc_take_irqs(&dev)) & AIMC_IRQ_ADC_CLIP;
    // Saturate: inputs at full scale everywhere drive the columns past the calibrated range.
    std::vector<uint8_t> codes(static_cast<size_t>(8) * dev.in_features, 255);
    std::vector<int32_t> out(static_cast<size_t>(8) * dev.out_features);
    ASSERT_EQ(aimc_infer(&dev, codes.data(), 8, out.data()), AIMC_OK);
    irq_after = (rd(hal, AIMC_REG_IRQ_STATUS) | aimc_take_irqs(&dev)) & AIMC_IRQ_ADC_CLIP;
  });
  const chip::Tile& t2 = *b.chip.tiles()[2];
  int faulty = 0;
  for (int c = 0; c < cfg.tile.array.cols; ++c) {
    const float off = t2.adc_offset_lsb(c);
    EXPECT_TRUE(off == 0.0f || std::fabs(off) == 2.0f) << c;  // no spread in the preset: faults only
    EXPECT_EQ(result[static_cast<size_t>(c)], static_cast<int32_t>(off)) << "column " << c;
    faulty += off != 0.0f;
  }
  // 400 columns at rate 0.1: 40 expected, binomial sigma 6; 4 sigma either way.
  EXPECT_GT(faulty, 40 - 24);
  EXPECT_LT(faulty, 40 + 24);
  EXPECT_FALSE(irq_before);
  EXPECT_TRUE(irq_after);
  uint64_t clipped = 0;
  for (chip::Tile* t : b.chip.tiles()) clipped += t->adc_clipped();
  EXPECT_GT(clipped, 0u);
  // The chip's snapshot (what the report reads) holds each tile's own count.
  const chip::ChipStats st = b.chip.stats();
  ASSERT_EQ(st.tiles.size(), b.chip.tiles().size());
  for (size_t t = 0; t < st.tiles.size(); ++t) {
    EXPECT_EQ(st.tiles[t].tile, static_cast<int>(t));
    EXPECT_EQ(st.tiles[t].adc_clipped, b.chip.tiles()[t]->adc_clipped()) << "tile " << t;
  }
  EXPECT_EQ(st.adc_clipped(), clipped);
}

// A phase's programming is the totals since a snapshot of them: counters, sums and histograms
// subtract, the per-command list keeps the commands after the snapshot's.
TEST(Programming, StatsSinceASnapshotAreThoseOfThePhase) {
  chip::ProgrammingStats a;
  a.program_commands = 2;
  a.cells = 100;
  a.pulses = 300;
  a.verify_reads = 400;
  a.unconverged = 1;
  a.erase_operations = 3;
  a.erased_cells = 50;
  a.busy_ps = 1000;
  a.static_j = 0.5e-6;
  a.host_seconds = 0.5;
  a.iteration_histogram = {0, 60, 40};
  a.error_sum = 0.25;
  a.error_sum_sq = 0.125;
  a.error_max_abs = 0.01;
  a.error_histogram[5] = 100;
  a.by_tile = {{0, 50, 150, 0, 4, 400}, {1, 50, 150, 1, 5, 600}};
  chip::ProgrammingStats b = a;
  b.program_commands = 3;
  b.cells = 130;
  b.pulses = 420;
  b.verify_reads = 550;
  b.unconverged = 4;
  b.erase_operations = 5;
  b.erased_cells = 80;
  b.busy_ps = 1700;
  b.static_j = 2.0e-6;
  b.host_seconds = 0.75;
  b.iteration_histogram = {0, 70, 50, 10};
  b.error_sum = 0.5;
  b.error_sum_sq = 0.25;
  b.error_max_abs = 0.02;
  b.error_histogram[5] = 110;
  b.error_histogram[6] = 20;
  b.by_tile.push_back({2, 30, 120, 3, 6, 700});
  const chip::ProgrammingStats d = b.since(a);
  EXPECT_EQ(d.program_commands, 1);
  EXPECT_EQ(d.cells, 30);
  EXPECT_EQ(d.pulses, 120);
  EXPECT_EQ(d.verify_reads, 150);
  EXPECT_EQ(d.unconverged, 3);
  EXPECT_EQ(d.erase_operations, 2);
  EXPECT_EQ(d.erased_cells, 30);
  EXPECT_EQ(d.busy_ps, 700u);
  EXPECT_DOUBLE_EQ(d.static_j, 1.5e-6);
  EXPECT_DOUBLE_EQ(d.host_seconds, 0.25);
  EXPECT_EQ(d.iteration_histogram, (std::vector<long>{0, 10, 10, 10}));
  EXPECT_DOUBLE_EQ(d.error_sum, 0.25);
  EXPECT_DOUBLE_EQ(d.error_sum_sq, 0.125);
  EXPECT_DOUBLE_EQ(d.error_max_abs, 0.02);  // the later maximum: an upper bound
  EXPECT_EQ(d.error_histogram[5], 10);
  EXPECT_EQ(d.error_histogram[6], 20);
  ASSERT_EQ(d.by_tile.size(), 1u);
  EXPECT_EQ(d.by_tile[0].tile, 2);
  EXPECT_EQ(d.by_tile[0].pulses, 120);
  const chip::ProgrammingStats none = b.since(b);
  EXPECT_EQ(none.cells, 0);
  EXPECT_EQ(none.busy_ps, 0u);
  EXPECT_EQ(none.static_j, 0.0);
  EXPECT_TRUE(none.by_tile.empty());
}

// The chip snapshot's totals over tiles: clipped samples of all, the age of the oldest tile that
// holds weights (a tile without weights does not count, however long ago it was erased).
TEST(Programming, ChipStatsTotalsOverTiles) {
  chip::ChipStats st;
  EXPECT_EQ(st.adc_clipped(), 0u);
  EXPECT_EQ(st.max_programmed_age_s(), 0.0);
  st.tiles = {{0, true, 10.0, 5, 3}, {1, false, 99.0, 0, 0}, {2, true, 20.0, 7, 4}};
  EXPECT_EQ(st.adc_clipped(), 7u);
  EXPECT_EQ(st.max_programmed_age_s(), 20.0);
}

// --at accepts the units it documents and refuses anything else with a message naming it.
TEST(Programming, DurationParsing) {
  EXPECT_DOUBLE_EQ(app::parse_duration_s("0"), 0.0);
  EXPECT_DOUBLE_EQ(app::parse_duration_s("90"), 90.0);
  EXPECT_DOUBLE_EQ(app::parse_duration_s("250ms"), 0.25);
  EXPECT_DOUBLE_EQ(app::parse_duration_s("30min"), 1800.0);
  EXPECT_DOUBLE_EQ(app::parse_duration_s("1h"), 3600.0);
  EXPECT_DOUBLE_EQ(app::parse_duration_s("2.5d"), 2.5 * 86400.0);
  EXPECT_DOUBLE_EQ(app::parse_duration_s("1w"), 7 * 86400.0);
  EXPECT_DOUBLE_EQ(app::parse_duration_s("10y"), 10 * 365.25 * 86400.0);
  EXPECT_DOUBLE_EQ(app::parse_duration_s("3 h"), 3 * 3600.0);
  for (const char* bad : {"", "h", "1 parsec", "1hh", "-1h", "nan", "1e400s"}) {
    try {
      app::parse_duration_s(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const app::UserError& e) {
      EXPECT_NE(std::string(e.what()).find("--at"), std::string::npos) << e.what();
    }
  }
  // Absurd durations are out of range, with the limit (1e308y said "must be >= 0": the product
  // with the unit's seconds overflowed to infinity).
  EXPECT_DOUBLE_EQ(app::parse_duration_s("1000y"), 1000 * 365.25 * 86400.0);
  for (const char* huge : {"1e308y", "1e400s", "1001y", "inf", "1e300"}) {
    try {
      app::parse_duration_s(huge);
      ADD_FAILURE() << "accepted '" << huge << "'";
    } catch (const app::UserError& e) {
      EXPECT_EQ(std::string(e.what()), "--at: '" + std::string(huge) +
                                           "' is out of range: at most 1000 y (31557600000 s) after programming");
    }
  }
  EXPECT_DOUBLE_EQ(app::parse_duration_s("1e-400s"), 0.0);  // below double: about 0, not an error
}

// Faults placed while the platform runs (Tile::inject_*, aimc fw run --gdb's `monitor fault`)
// act on the next read as the drawn ones do, and refuse indices outside the array.
TEST(Programming, FaultsInjectedAtRunTimeActOnTheNextRead) {
  const config::PlatformConfig cfg = preset();
  Bench b(cfg);
  chip::Tile& t = *b.chip.tiles()[1];
  const double g_max = cfg.tile.device.g_max_ns * 1e-9, g_min = cfg.tile.device.g_min_ns * 1e-9;
  const double erased = t.conductance_s(5, 7, false);
  ASSERT_GT(std::fabs(erased - g_max), 0.01 * g_max) << "the test needs erased cells away from g_max";
  t.inject_stuck_cell(5, 7, false, true);
  EXPECT_NEAR(t.conductance_s(5, 7, false), g_max, 1e-6 * g_max);
  EXPECT_NEAR(t.conductance_s(5, 7, true), erased, 1e-6 * erased);  // the pair's other cell: untouched
  t.inject_stuck_cell(5, 7, true, false);
  EXPECT_NEAR(t.conductance_s(5, 7, true), g_min, 1e-6 * g_max);
  t.inject_stuck_cell(5, 7, false, false);  // a stuck cell can be made stuck the other way
  EXPECT_NEAR(t.conductance_s(5, 7, false), g_min, 1e-6 * g_max);
  EXPECT_GT(t.conductance_s(0, 3, false), 0.0);
  t.inject_dead_column(3);
  for (int r : {0, 17, cfg.tile.array.rows - 1}) {
    EXPECT_EQ(t.conductance_s(r, 3, false), 0.0) << r;
    EXPECT_EQ(t.conductance_s(r, 3, true), 0.0) << r;
  }
  EXPECT_GT(t.conductance_s(0, 4, false), 0.0);  // its neighbour reads
  ASSERT_EQ(t.adc_offset_lsb(2), 0.0f) << "the preset draws no ADC offsets";
  t.inject_adc_offset(2, 2.5);
  t.inject_adc_offset(2, 1.0);
  EXPECT_FLOAT_EQ(t.adc_offset_lsb(2), 3.5f);
  EXPECT_EQ(t.adc_offset_lsb(1), 0.0f);
  t.zero_input_test(sim::Phase::deploy);  // what firmware's TEST register shows
  EXPECT_EQ(t.test_result(2), 4);
  EXPECT_EQ(t.test_result(1), 0);
  const int cols = cfg.tile.array.cols, rows = cfg.tile.array.rows;
  EXPECT_THROW(t.inject_stuck_cell(rows, 0, false, true), std::invalid_argument);
  EXPECT_THROW(t.inject_stuck_cell(0, -1, false, true), std::invalid_argument);
  EXPECT_THROW(t.inject_dead_column(cols), std::invalid_argument);
  EXPECT_THROW(t.inject_adc_offset(0, std::nan("")), std::invalid_argument);
  try {
    t.inject_adc_offset(cols, 1.0);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("column " + std::to_string(cols) + " is outside the array"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace aimc::testing
