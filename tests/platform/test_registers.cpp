// The firmware-facing register map: power states, performance counters, NVM cell commands, DMA
// descriptor chains, the command queue and per-tile calibration, each with its misuse answered as
// hardware would. Every case is its own process (one elaboration each).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "aimc_hw.h"
#include "aimc_regs.h"
#include "compiler/image.h"
#include "harness.h"

namespace aimc::testing {
namespace {

TEST(Registers, StandbyGatesTileStaticPowerAndRefusesCommands) {
  const config::PlatformConfig cfg = preset();
  Bench b(cfg);
  const int tile_static = b.ledger.component("tile_static");
  const int sram = b.ledger.component("sram");
  const int array = b.ledger.component("array");
  double e_active_ms = -1, e_standby_ms = -1, e_sram_standby_ms = -1;
  double e_array_active_ms = -1, e_array_standby_ms = -1;
  // Static energy a component gathers over one millisecond of simulated time from now.
  auto over_one_ms = [&](int comp) {
    b.chip.cpu().sync();
    b.ledger.advance(b.now_ps());
    const double e0 = b.ledger.component_j(comp);
    sc_core::wait(sc_core::sc_time(1, sc_core::SC_MS));
    b.ledger.advance(b.now_ps());
    return b.ledger.component_j(comp) - e0;
  };
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    e_active_ms = over_one_ms(tile_static);
    e_array_active_ms = over_one_ms(array);
    ASSERT_EQ(aimc_set_power_state(&dev, AIMC_POWER_STANDBY), AIMC_OK);
    e_standby_ms = over_one_ms(tile_static);
    e_array_standby_ms = over_one_ms(array);
    e_sram_standby_ms = over_one_ms(sram);
    // Commands that need the tiles are refused in standby.
    wr(hal, AIMC_REG_SEQ_START, 1);
    EXPECT_EQ(take_error(hal), AIMC_ERR_POWER_STATE);
    wr(hal, AIMC_REG_PROG_CMD, AIMC_PROG_ERASE);
    EXPECT_EQ(take_error(hal), AIMC_ERR_POWER_STATE);
    wr(hal, AIMC_TILE_REG(0, AIMC_TREG_TEST), 1);
    EXPECT_EQ(take_error(hal), AIMC_ERR_POWER_STATE);
    // A bad state value is ignored and flagged.
    wr(hal, AIMC_REG_POWER_STATE, 7);
    EXPECT_EQ(take_error(hal), AIMC_ERR_BAD_VALUE);
    EXPECT_EQ(rd(hal, AIMC_REG_POWER_STATE), AIMC_POWER_STANDBY);
    ASSERT_EQ(aimc_set_power_state(&dev, AIMC_POWER_ACTIVE), AIMC_OK);
  });
  const double p_active = cfg.tile_count() * cfg.tile.p_static_active_uw * 1e-6;  // W
  EXPECT_NEAR(e_active_ms, p_active * 1e-3, 1e-9 * p_active * 1e-3);
  EXPECT_EQ(e_standby_ms, 0.0);                            // the tiles are power-gated
  // The arrays' sense path (a block's static power) is on while ACTIVE and gated with the tiles.
  const double p_array = cfg.tile_count() * cfg.tile.array.p_static_uw * 1e-6;  // W
  ASSERT_GT(p_array, 0.0);
  EXPECT_NEAR(e_array_active_ms, p_array * 1e-3, 1e-9 * p_array * 1e-3);
  EXPECT_EQ(e_array_standby_ms, 0.0);
  EXPECT_NEAR(e_sram_standby_ms, cfg.sram.size_kib * cfg.sram.p_static_uw_per_kib * 1e-9, 1e-15);  // the SRAM is not
}

// With sram.standby = gate_unused, STANDBY keeps the SRAM banks an inference wrote at their
// retention leakage and gates the others (sim/sram.h): the SRAM's static energy over a STANDBY
// interval is in_use_kib * p_static_uw_per_kib * retention_leakage_rel * t, the banks holding data
// are among those kept and come back unchanged, a DMA into the SRAM in STANDBY is refused, and
// the chip infers again after wake-up.
TEST(Registers, StandbyGatesTheSramBanksAnInferenceDidNotWrite) {
  const config::PlatformConfig cfg = preset({"sram.standby=gate_unused"});
  const compiler::CompiledModel cm = bundled(cfg);
  const compiler::Dataset data = test_images(10);
  Bench b(cfg);
  const int sram = b.ledger.component("sram");
  auto over_one_ms = [&]() {
    b.chip.cpu().sync();
    b.ledger.advance(b.now_ps());
    const double e0 = b.ledger.component_j(sram);
    sc_core::wait(sc_core::sc_time(1, sc_core::SC_MS));
    b.ledger.advance(b.now_ps());
    return b.ledger.component_j(sram) - e0;
  };
  std::vector<uint8_t> before, after;
  double e_standby = -1, in_use_kib = -1;
  int dma_rc = AIMC_OK, infer_after = -99;
  uint32_t dma_error = 0;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    std::vector<float> xs = row_major(data.images);
    std::vector<uint8_t> codes(xs.size());
    std::vector<int32_t> out(10 * 10);
    aimc_quantize_inputs(&dev, xs.data(), xs.size(), codes.data());
    ASSERT_EQ(aimc_infer(&dev, codes.data(), 10, out.data()), AIMC_OK);
    before.assign(b.chip.sram().data(), b.chip.sram().data() + b.chip.sram().size_bytes());
    ASSERT_EQ(aimc_set_power_state(&dev, AIMC_POWER_STANDBY), AIMC_OK);
    in_use_kib = b.chip.sram().in_use_kib();
    e_standby = over_one_ms();
    aimc_dma_buf_t buf;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 64, &buf), AIMC_HAL_OK);
    dma_rc = aimc_dma(&dev, &buf, 0, AIMC_SRAM_BASE, 64, 0);
    dma_error = dev.device_error;
    take_error(hal);
    ASSERT_EQ(aimc_set_power_state(&dev, AIMC_POWER_ACTIVE), AIMC_OK);
    after.assign(b.chip.sram().data(), b.chip.sram().data() + b.chip.sram().size_bytes());
    infer_after = aimc_infer(&dev, codes.data(), 10, out.data());
  });
  const double size_kib = cfg.sram.size_kib, bank = cfg.sram.bank_kib;
  EXPECT_GT(in_use_kib, 0.0);
  EXPECT_LT(in_use_kib, size_kib / 4) << "the MLP's activations fill a few banks of the 2 MiB";
  // Every bank that holds a non-zero byte is kept.
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i]) {
      ASSERT_TRUE(b.chip.sram().bank_in_use(static_cast<int>(i / (bank * 1024)))) << i;
    }
  }
  const double w = in_use_kib * cfg.sram.p_static_uw_per_kib * 1e-6 * cfg.sram.retention_leakage_rel;
  EXPECT_NEAR(e_standby, w * 1e-3, 1e-9 * w * 1e-3);
  EXPECT_LT(e_standby, 0.1 * size_kib * cfg.sram.p_static_uw_per_kib * 1e-9);  // below retain-all
  EXPECT_EQ(before, after) << "the banks in use keep their contents";
  EXPECT_EQ(dma_rc, AIMC_E_DEVICE);
  EXPECT_EQ(dma_error, static_cast<uint32_t>(AIMC_ERR_DMA_FAULT));
  EXPECT_EQ(infer_after, AIMC_OK);
}

TEST(Registers, PerformanceCountersCountAndReset) {
  const config::PlatformConfig cfg = preset();
  const compiler::CompiledModel cm = bundled(cfg);
  const compiler::Dataset data = test_images(10);
  Bench b(cfg);
  aimc_perf_t after_run{}, after_reset{};
  uint64_t t_reset = 0, t_read = 0;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    ASSERT_EQ(aimc_reset_perf(&dev), AIMC_OK);
    b.chip.cpu().sync();
    t_reset = b.now_ps();
    std::vector<float> xs = row_major(data.images);
    std::vector<uint8_t> codes(xs.size());
    std::vector<int32_t> out(10 * 10);
    aimc_quantize_inputs(&dev, xs.data(), xs.size(), codes.data());
    ASSERT_EQ(aimc_infer(&dev, codes.data(), 10, out.data()), AIMC_OK);
    ASSERT_EQ(aimc_read_perf(&dev, &after_run), AIMC_OK);
    b.chip.cpu().sync();
    t_read = b.now_ps();
    ASSERT_EQ(aimc_reset_perf(&dev), AIMC_OK);
    ASSERT_EQ(aimc_read_perf(&dev, &after_reset), AIMC_OK);
  });
  // 10 vectors through 4 slices (layer 0 on two tiles, one tile each for layers 1 and 2).
  EXPECT_EQ(after_run.mvms, 40u);
  // Conversions: DAC per used row, ADC per used column, per vector.
  EXPECT_EQ(after_run.conversions, 10u * (784 + 256 + 128) + 10u * (2 * 256 + 128 + 10));
  EXPECT_GT(after_run.bus_bytes, 10u * 784);
  EXPECT_GT(after_run.energy_nj, 0u);
  const double cycles = (t_read - t_reset) * 1e-6 * cfg.tile.digital.clock_mhz;
  // t_reset and t_read bracket the counter's own reset and read to within a few register
  // accesses on either side: allow 10 accesses' worth of cycles.
  const double slack = 10 * cfg.host.reg_access_ns * 1e-3 * cfg.tile.digital.clock_mhz;
  EXPECT_NEAR(static_cast<double>(after_run.cycles), cycles, slack);
  EXPECT_GT(cycles, 10 * slack);  // the inference itself dominates
  EXPECT_EQ(after_reset.mvms, 0u);
  EXPECT_EQ(after_reset.conversions, 0u);
  EXPECT_LT(after_reset.cycles, after_run.cycles);
}

TEST(Registers, ReadVerifyAndEraseCells) {
  const config::PlatformConfig cfg = preset();
  const compiler::CompiledModel cm = bundled(cfg);
  const compiler::ImageView img = compiler::parse_image(cm.image);
  Bench b(cfg);
  uint32_t ps = 0, ps_erased = 0, fails_loose = 99, fails_tight = 0;
  int rc_bad_row = 0;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    // The staging buffer still holds the last weight block loaded: tile 3's.
    ASSERT_EQ(aimc_read_cell(&dev, 3, 5, 7, 0, &ps), AIMC_OK);
    ASSERT_EQ(aimc_verify_tile(&dev, 3, 100000, &fails_loose), AIMC_OK);  // 10 % of g_max
    ASSERT_EQ(aimc_verify_tile(&dev, 3, 10, &fails_tight), AIMC_OK);      // 0.001 % of g_max
    rc_bad_row = aimc_read_cell(&dev, 3, 100000, 0, 0, &ps_erased);
    dev.device_error = 0;
    ASSERT_EQ(aimc_erase_tile(&dev, 3), AIMC_OK);
    ASSERT_EQ(aimc_read_cell(&dev, 3, 5, 7, 0, &ps_erased), AIMC_OK);
    EXPECT_EQ(rd(hal, AIMC_TILE_REG(3, AIMC_TREG_STATUS)) & AIMC_TILE_STATUS_PROGRAMMED_MASK, 0u);
  });
  chip::Tile& t3 = *b.chip.tiles()[3];
  // READ_CELL reported what the cell held before the erase (pS, rounded).
  EXPECT_GT(ps, 0u);
  EXPECT_EQ(rc_bad_row, AIMC_E_DEVICE);
  // Program-and-verify leaves converged cells within 1 % of their target (the preset's
  // tolerance_rel); cells given up (a verify read under target: flash cannot go back) miss by at
  // most a few % of g_max, never 10 %.
  EXPECT_EQ(fails_loose, 0u);
  EXPECT_GT(fails_tight, 100u);  // but nearly every cell misses by more than 0.001 %
  // Erased flash: every cell in the erased, high-conductance state exactly.
  ASSERT_EQ(cfg.tile.device.type, config::DeviceType::flash);
  EXPECT_EQ(ps_erased, static_cast<uint32_t>(std::llround(cfg.tile.device.g_erased_ns * 1e3)));
  // (conductances are kept normalized in float32: relative precision 6e-8)
  EXPECT_NEAR(t3.conductance_s(5, 7, false), cfg.tile.device.g_erased_ns * 1e-9, 1e-7 * 2e-9);
  (void)img;
}

// Puts descriptors and data in host memory; returns the descriptor's bus address.
uint32_t put_desc(aimc_dma_buf_t& buf, size_t slot, const aimc_dma_desc_t& d) {
  std::memcpy(static_cast<uint8_t*>(buf.cpu) + slot * sizeof d, &d, sizeof d);
  return buf.bus_addr + static_cast<uint32_t>(slot * sizeof d);
}

TEST(Registers, DescriptorChainGathersA2DBlock) {
  Bench b(preset());
  std::vector<uint8_t> sram_before;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    aimc_dma_buf_t data, descs;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 64 * 64, &data), AIMC_HAL_OK);
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 4 * sizeof(aimc_dma_desc_t), &descs), AIMC_HAL_OK);
    for (int i = 0; i < 64 * 64; ++i) static_cast<uint8_t*>(data.cpu)[i] = static_cast<uint8_t>(i * 7);
    // Descriptor 0: an 8 x 16 block out of a 64-byte-wide image, packed into SRAM (2D gather).
    // Descriptor 1: 32 linear bytes to SRAM + 1024.
    aimc_dma_desc_t d1{0, 0, data.bus_addr + 2048, AIMC_SRAM_BASE + 1024, 32, 1, 0, 0};
    const uint32_t a1 = put_desc(descs, 1, d1);
    aimc_dma_desc_t d0{a1, 0, data.bus_addr + 64 * 3 + 5, AIMC_SRAM_BASE, 16, 8, 64, 16};
    const uint32_t a0 = put_desc(descs, 0, d0);
    ASSERT_EQ(aimc_dma_chain(&dev, a0), AIMC_OK);
    EXPECT_EQ(rd(hal, AIMC_REG_DMA_DESC_DONE), 2u);

    // Malformed: zero rows. Nothing moves, BAD_DESCRIPTOR names the descriptor.
    std::memset(b.chip.sram().data(), 0, 4096);
    aimc_dma_desc_t bad{0, 0, data.bus_addr, AIMC_SRAM_BASE, 16, 0, 16, 16};
    const uint32_t abad = put_desc(descs, 2, bad);
    EXPECT_EQ(aimc_dma_chain(&dev, abad), AIMC_E_DEVICE);
    EXPECT_EQ(dev.device_error, AIMC_ERR_BAD_DESCRIPTOR);
    EXPECT_EQ(dev.device_error_addr, abad);
    // Overlapping rows (stride below the row length).
    aimc_dma_desc_t overlap{0, 0, data.bus_addr, AIMC_SRAM_BASE, 16, 4, 8, 16};
    EXPECT_EQ(aimc_dma_chain(&dev, put_desc(descs, 2, overlap)), AIMC_E_DEVICE);
    EXPECT_EQ(dev.device_error, AIMC_ERR_BAD_DESCRIPTOR);
    // A loop: the descriptor points at itself.
    aimc_dma_desc_t loop{descs.bus_addr + 2 * 32, 0, data.bus_addr, AIMC_SRAM_BASE, 16, 1, 0, 0};
    EXPECT_EQ(aimc_dma_chain(&dev, put_desc(descs, 2, loop)), AIMC_E_DEVICE);
    EXPECT_EQ(dev.device_error, AIMC_ERR_BAD_DESCRIPTOR);
    // A good first descriptor, then one outside the SRAM: a fault, and not even the first moves.
    aimc_dma_desc_t out_of_range{0, 0, data.bus_addr, AIMC_SRAM_BASE + 0x0FFFFFF0u, 64, 1, 0, 0};
    const uint32_t aoor = put_desc(descs, 3, out_of_range);
    aimc_dma_desc_t first{aoor, 0, data.bus_addr, AIMC_SRAM_BASE, 64, 1, 0, 0};
    EXPECT_EQ(aimc_dma_chain(&dev, put_desc(descs, 2, first)), AIMC_E_DEVICE);
    EXPECT_EQ(dev.device_error, AIMC_ERR_DMA_FAULT);
    sram_before.assign(b.chip.sram().data(), b.chip.sram().data() + 64);
  });
  EXPECT_TRUE(b.chip.cpu().finished());
  EXPECT_EQ(sram_before, std::vector<uint8_t>(64, 0));  // the faulting chain wrote nothing
}

TEST(Registers, DescriptorChainDataLandsWhereTheStridesSay) {
  Bench b(preset());
  std::vector<uint8_t> src(64 * 64);
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    aimc_dma_buf_t data, descs;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, src.size(), &data), AIMC_HAL_OK);
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 64, &descs), AIMC_HAL_OK);
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 13 + 1);
    std::memcpy(data.cpu, src.data(), src.size());
    aimc_dma_desc_t d{0, 0, data.bus_addr + 64 * 3 + 5, AIMC_SRAM_BASE + 32, 16, 8, 64, 20};
    ASSERT_EQ(aimc_dma_chain(&dev, put_desc(descs, 0, d)), AIMC_OK);
  });
  const uint8_t* s = b.chip.sram().data();
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 16; ++c)
      ASSERT_EQ(s[32 + r * 20 + c], src[64 * (3 + r) + 5 + c]) << r << "," << c;
  EXPECT_EQ(s[32 + 16], 0u);  // the 4-byte gaps between rows are untouched
}

TEST(Registers, CommandQueueMatchesSingleCommandsAndStopsAtABadEntry) {
  // 256 KiB of SRAM: a max_batch of 252 images, so that 600 take several commands.
  const config::PlatformConfig cfg = preset({"tile.device.type=ideal", "sram.size_kib=256"});
  const compiler::CompiledModel cm = bundled(cfg);
  const compiler::Dataset data = test_images(600);  // more than one max_batch
  Bench b(cfg);
  std::vector<int32_t> direct(600 * 10), queued(600 * 10);
  uint32_t bad_status = 0;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    ASSERT_GT(600u, dev.max_batch);
    std::vector<float> xs = row_major(data.images);
    std::vector<uint8_t> codes(xs.size());
    aimc_quantize_inputs(&dev, xs.data(), xs.size(), codes.data());
    ASSERT_EQ(aimc_infer(&dev, codes.data(), 600, direct.data()), AIMC_OK);
    const uint32_t accesses_before = static_cast<uint32_t>(b.chip.host().register_accesses());
    ASSERT_EQ(aimc_cq_init(&dev, 8), AIMC_OK);
    ASSERT_EQ(aimc_infer_queued(&dev, codes.data(), 600, queued.data()), AIMC_OK);
    // One doorbell for the whole batch: a handful of register accesses, not one per chunk.
    EXPECT_LT(b.chip.host().register_accesses() - accesses_before, 20u);
    EXPECT_EQ(rd(hal, AIMC_REG_CQ_HEAD), rd(hal, AIMC_REG_CQ_TAIL));
    // A malformed entry: unknown opcode. The queue stops at it and says why.
    aimc_cmd_t* ring = static_cast<aimc_cmd_t*>(dev.cq_ring.cpu);
    const uint32_t slot = dev.cq_tail;
    ring[slot] = aimc_cmd_t{99, AIMC_CMD_FLAG_IRQ, dev.cq_in.bus_addr, dev.cq_out.bus_addr, 1, 0, 0, 0};
    wr(hal, AIMC_REG_CQ_TAIL, (slot + 1) % 8);
    EXPECT_EQ(aimc_wait_done(&dev, AIMC_IRQ_CQ_DONE), AIMC_E_DEVICE);
    EXPECT_EQ(dev.device_error, AIMC_ERR_BAD_COMMAND);
    EXPECT_EQ(rd(hal, AIMC_REG_CQ_STATUS), AIMC_STATE_ERROR);
    EXPECT_EQ(rd(hal, AIMC_REG_CQ_HEAD), slot);
    bad_status = ring[slot].status;
  });
  EXPECT_EQ(direct, queued);
  EXPECT_EQ(bad_status, AIMC_ERR_BAD_COMMAND);
}

TEST(Registers, TileWindowsAndTrimsCancelAdcOffsets) {
  // An untrimmed chip: every column's ADC has a static offset (sigma 2 LSB).
  const config::PlatformConfig cfg = preset({"tile.device.type=ideal", "tile.adc.offset_sigma_lsb=2"});
  const compiler::CompiledModel cm = bundled(cfg);
  const compiler::ImageView img = compiler::parse_image(cm.image);
  const compiler::Dataset data = test_images(100);
  const compiler::IdealRun ref = compiler::execute_ideal(
      img, data.images, cfg.tile.adc.bits, cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns);
  Bench b(cfg);
  std::vector<int32_t> untrimmed(1000), trimmed(1000), before(400), after(400);
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    std::vector<float> xs = row_major(data.images);
    std::vector<uint8_t> codes(xs.size());
    aimc_quantize_inputs(&dev, xs.data(), xs.size(), codes.data());
    ASSERT_EQ(aimc_infer(&dev, codes.data(), 100, untrimmed.data()), AIMC_OK);
    EXPECT_EQ(rd(hal, AIMC_TILE_REG(0, AIMC_TREG_ROWS_USED)), 392u);
    EXPECT_EQ(rd(hal, AIMC_TILE_REG(0, AIMC_TREG_COLS_USED)), 256u);
    for (uint32_t t = 0; t < 4; ++t) {
      const uint32_t cols = rd(hal, AIMC_TILE_REG(t, AIMC_TREG_COLS_USED));
      ASSERT_EQ(aimc_calibrate_tile(&dev, t, cols, t == 0 ? before.data() : nullptr,
                                    t == 0 ? after.data() : nullptr),
                AIMC_OK);
    }
    ASSERT_EQ(aimc_infer(&dev, codes.data(), 100, trimmed.data()), AIMC_OK);
    // Misuse of the window: a tile that does not exist, a read-only register, a trim too large.
    uint32_t v = 0;
    EXPECT_EQ(hal.ops->read32(hal.ctx, AIMC_TILE_REG(12, AIMC_TREG_STATUS), &v), AIMC_HAL_BUS_ERROR);
    EXPECT_EQ(take_error(hal), AIMC_ERR_UNMAPPED);
    EXPECT_EQ(hal.ops->read32(hal.ctx, AIMC_TILE_REG(0, AIMC_TREG_TRIM(400)), &v), AIMC_HAL_BUS_ERROR);
    EXPECT_EQ(take_error(hal), AIMC_ERR_UNMAPPED);
    wr(hal, AIMC_TILE_REG(0, AIMC_TREG_MVMS), 5);
    EXPECT_EQ(take_error(hal), AIMC_ERR_RO_WRITE);
    wr(hal, AIMC_TILE_REG(0, AIMC_TREG_TRIM(0)), 100000);
    EXPECT_EQ(take_error(hal), AIMC_ERR_BAD_VALUE);
  });
  // The test measured each column's rounded offset; after trimming, zero input reads zero.
  const chip::Tile& t0 = *b.chip.tiles()[0];
  int nonzero = 0;
  for (int c = 0; c < 256; ++c) {
    EXPECT_EQ(before[c], static_cast<int32_t>(std::round(t0.adc_offset_lsb(c)))) << c;
    EXPECT_EQ(after[c], 0) << c;
    nonzero += before[c] != 0;
  }
  EXPECT_GT(nonzero, 100);  // sigma 2 LSB: most columns are off by at least one code
  // Against the offset-free reference, trimming removes most of the output error.
  double err_untrimmed = 0, err_trimmed = 0;
  for (int v = 0; v < 100; ++v)
    for (int j = 0; j < 10; ++j) {
      err_untrimmed += std::fabs(double(untrimmed[v * 10 + j]) - ref.output(v, j));
      err_trimmed += std::fabs(double(trimmed[v * 10 + j]) - ref.output(v, j));
    }
  EXPECT_LT(err_trimmed, 0.5 * err_untrimmed) << err_trimmed << " vs " << err_untrimmed;
}

}  // namespace
}  // namespace aimc::testing
