// The host interface's units one by one, through the bus as firmware sees them: each unit's
// registers, their refusals (the error code and the address it names) and what the unit keeps.
// The bank itself (decoding, policies, bus errors) is tested without SystemC in tests/chip.
#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "aimc_regs.h"
#include "harness.h"

namespace aimc::testing {
namespace {

// Reads ERROR_ADDR, then clears the error (take_error returns the code).
struct Refusal {
  uint32_t code, addr;
};
Refusal take_refusal(aimc_hal_t hal) {
  const uint32_t addr = rd(hal, AIMC_REG_ERROR_ADDR);
  return {take_error(hal), addr};
}
#define EXPECT_REFUSED(hal, want_code, want_addr)                  \
  do {                                                             \
    const Refusal r_ = take_refusal(hal);                          \
    EXPECT_EQ(r_.code, static_cast<uint32_t>(want_code));          \
    EXPECT_EQ(r_.addr, static_cast<uint32_t>(want_addr)) << "addr"; \
  } while (0)

// Starts a 64 KiB host->SRAM transfer: the DMA engine stays busy for a while.
void start_long_dma(aimc_hal_t hal, aimc_dma_buf_t& buf) {
  ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 65536, &buf), AIMC_HAL_OK);
  wr(hal, AIMC_REG_DMA_HOST_ADDR, buf.bus_addr);
  wr(hal, AIMC_REG_DMA_DEV_ADDR, AIMC_SRAM_BASE);
  wr(hal, AIMC_REG_DMA_LEN, 65536);
  wr(hal, AIMC_REG_DMA_CTRL, 0);
  wr(hal, AIMC_REG_DMA_START, 1);
}
void wait_idle(aimc_hal_t hal) {
  while (rd(hal, AIMC_REG_STATUS) & (AIMC_STATUS_DMA_BUSY_MASK | AIMC_STATUS_CQ_BUSY_MASK)) {
  }
}

TEST(HostUnits, PowerControlRefusesBadStatesAndChangesWhileBusy) {
  Bench b(preset());
  uint32_t state_seen_by_host = 99;
  b.run([&](aimc_hal_t hal) {
    aimc_dma_buf_t buf;
    start_long_dma(hal, buf);
    wr(hal, AIMC_REG_POWER_STATE, AIMC_POWER_ACTIVE);  // no change: accepted while busy
    EXPECT_EQ(rd(hal, AIMC_REG_ERROR_CODE), AIMC_ERR_NONE);
    wr(hal, AIMC_REG_POWER_STATE, AIMC_POWER_IDLE);
    EXPECT_REFUSED(hal, AIMC_ERR_BUSY, AIMC_REG_POWER_STATE);
    EXPECT_EQ(rd(hal, AIMC_REG_POWER_STATE), AIMC_POWER_ACTIVE);
    wait_idle(hal);
    wr(hal, AIMC_REG_POWER_STATE, AIMC_POWER_STANDBY + 1);
    EXPECT_REFUSED(hal, AIMC_ERR_BAD_VALUE, AIMC_REG_POWER_STATE);
    wr(hal, AIMC_REG_POWER_STATE, AIMC_POWER_IDLE);
    EXPECT_EQ(rd(hal, AIMC_REG_ERROR_CODE), AIMC_ERR_NONE);
    EXPECT_EQ(rd(hal, AIMC_REG_POWER_STATE), AIMC_POWER_IDLE);
    state_seen_by_host = b.chip.host().power_state();
  });
  EXPECT_EQ(state_seen_by_host, AIMC_POWER_IDLE);
}

TEST(HostUnits, SoftResetRestoresEveryUnitButNotWhileBusy) {
  Bench b(preset());
  b.run([&](aimc_hal_t hal) {
    wr(hal, AIMC_REG_DMA_DEV_ADDR, 0xFFFFFF00u);  // no memory there: the transfer faults
    wr(hal, AIMC_REG_DMA_LEN, 16);
    wr(hal, AIMC_REG_DMA_START, 1);
    wait_idle(hal);
    EXPECT_EQ(rd(hal, AIMC_REG_DMA_STATUS), AIMC_STATE_ERROR);
    wr(hal, AIMC_REG_PROG_TILE, 1000);
    wr(hal, AIMC_REG_PROG_CMD, AIMC_PROG_ERASE);
    EXPECT_EQ(rd(hal, AIMC_REG_PROG_STATUS), AIMC_STATE_ERROR);
    EXPECT_EQ(rd(hal, AIMC_REG_ERROR_CODE), AIMC_ERR_DMA_FAULT);  // the first error is kept
    wr(hal, AIMC_REG_CQ_BASE, 0x1000);
    wr(hal, AIMC_REG_CQ_ENTRIES, 4);
    wr(hal, AIMC_REG_CTRL, AIMC_CTRL_SOFT_RESET_MASK);
    EXPECT_EQ(rd(hal, AIMC_REG_CTRL), 0u);  // self-clearing
    EXPECT_EQ(rd(hal, AIMC_REG_DMA_STATUS), AIMC_STATE_IDLE);
    EXPECT_EQ(rd(hal, AIMC_REG_PROG_STATUS), AIMC_STATE_IDLE);
    EXPECT_EQ(rd(hal, AIMC_REG_SEQ_STATUS), AIMC_STATE_IDLE);
    EXPECT_EQ(rd(hal, AIMC_REG_CQ_STATUS), AIMC_STATE_IDLE);
    EXPECT_EQ(rd(hal, AIMC_REG_ERROR_CODE), AIMC_ERR_NONE);
    EXPECT_EQ(rd(hal, AIMC_REG_ERROR_ADDR), 0u);
    EXPECT_EQ(rd(hal, AIMC_REG_IRQ_STATUS), 0u);
    EXPECT_EQ(rd(hal, AIMC_REG_CQ_BASE), 0x1000u);  // the ring's setup stays
    aimc_dma_buf_t buf;
    start_long_dma(hal, buf);
    wr(hal, AIMC_REG_CTRL, AIMC_CTRL_SOFT_RESET_MASK);
    EXPECT_REFUSED(hal, AIMC_ERR_BUSY, AIMC_REG_CTRL);
    EXPECT_EQ(rd(hal, AIMC_REG_DMA_STATUS), AIMC_STATE_BUSY);
    wait_idle(hal);
  });
}

TEST(HostUnits, ProgrammerPortChecksOpcodeTileAndIterations) {
  const config::PlatformConfig cfg = preset();
  Bench b(cfg);
  b.run([&](aimc_hal_t hal) {
    EXPECT_EQ(rd(hal, AIMC_REG_PROG_MAX_ITER), static_cast<uint32_t>(cfg.programming.max_iterations));
    wr(hal, AIMC_REG_PROG_CMD, 0);
    EXPECT_REFUSED(hal, AIMC_ERR_BAD_VALUE, AIMC_REG_PROG_CMD);
    wr(hal, AIMC_REG_PROG_CMD, AIMC_PROG_ERASE + 1);
    EXPECT_REFUSED(hal, AIMC_ERR_BAD_VALUE, AIMC_REG_PROG_CMD);
    EXPECT_EQ(rd(hal, AIMC_REG_PROG_STATUS), AIMC_STATE_IDLE);
    wr(hal, AIMC_REG_PROG_TILE, static_cast<uint32_t>(cfg.tile_count()));
    wr(hal, AIMC_REG_PROG_CMD, AIMC_PROG_VERIFY);
    EXPECT_REFUSED(hal, AIMC_ERR_BAD_TILE, cfg.tile_count());  // names the tile, not the register
    EXPECT_EQ(rd(hal, AIMC_REG_PROG_STATUS), AIMC_STATE_ERROR);
    wr(hal, AIMC_REG_PROG_MAX_ITER, 0);
    EXPECT_REFUSED(hal, AIMC_ERR_BAD_VALUE, AIMC_REG_PROG_MAX_ITER);
    wr(hal, AIMC_REG_PROG_MAX_ITER, 65536);
    EXPECT_REFUSED(hal, AIMC_ERR_BAD_VALUE, AIMC_REG_PROG_MAX_ITER);
    EXPECT_EQ(rd(hal, AIMC_REG_PROG_MAX_ITER), static_cast<uint32_t>(cfg.programming.max_iterations));
    wr(hal, AIMC_REG_PROG_MAX_ITER, 65535);
    EXPECT_EQ(rd(hal, AIMC_REG_PROG_MAX_ITER), 65535u);
    wr(hal, AIMC_REG_PROG_CELLS, 1);  // a result register
    EXPECT_REFUSED(hal, AIMC_ERR_RO_WRITE, AIMC_REG_PROG_CELLS);
  });
}

TEST(HostUnits, CommandQueueRefusesMalformedRings) {
  Bench b(preset());
  b.run([&](aimc_hal_t hal) {
    wr(hal, AIMC_REG_CQ_TAIL, 1);  // no ring yet
    EXPECT_REFUSED(hal, AIMC_ERR_BAD_COMMAND, AIMC_REG_CQ_TAIL);
    wr(hal, AIMC_REG_CQ_BASE, 0x1002);  // misaligned ring
    wr(hal, AIMC_REG_CQ_ENTRIES, 4);
    wr(hal, AIMC_REG_CQ_TAIL, 1);
    EXPECT_REFUSED(hal, AIMC_ERR_BAD_COMMAND, AIMC_REG_CQ_TAIL);
    wr(hal, AIMC_REG_CQ_BASE, 0x1000);
    wr(hal, AIMC_REG_CQ_TAIL, 4);  // past the ring
    EXPECT_REFUSED(hal, AIMC_ERR_BAD_COMMAND, AIMC_REG_CQ_TAIL);
    EXPECT_EQ(rd(hal, AIMC_REG_CQ_TAIL), 0u);
    wr(hal, AIMC_REG_POWER_STATE, AIMC_POWER_STANDBY);
    wr(hal, AIMC_REG_CQ_TAIL, 1);
    EXPECT_REFUSED(hal, AIMC_ERR_POWER_STATE, AIMC_REG_CQ_TAIL);
    wr(hal, AIMC_REG_CQ_HEAD, 1);
    EXPECT_REFUSED(hal, AIMC_ERR_RO_WRITE, AIMC_REG_CQ_HEAD);
    EXPECT_EQ(rd(hal, AIMC_REG_CQ_STATUS), AIMC_STATE_IDLE);
    EXPECT_EQ(rd(hal, AIMC_REG_CQ_DONE), 0u);
  });
}

// The queue is busy from its doorbell on, not only once its thread wakes: a FULL_RESET written
// between the two (the firmware's local time runs ahead of the kernel's) was accepted, and the
// queue then ran and left CQ_STATUS at DONE after the reset (found by the device fuzzer).
TEST(HostUnits, DoorbellMakesTheQueueBusyAtOnce) {
  Bench b(preset());
  uint32_t reset_error = 99, status_after = 99;
  b.run([&](aimc_hal_t hal) {
    wr(hal, AIMC_REG_CQ_BASE, 0x1000);
    wr(hal, AIMC_REG_CQ_ENTRIES, 4);
    rd(hal, AIMC_REG_SCRATCH);  // a read synchronizes: the next two writes stay inside one quantum
    wr(hal, AIMC_REG_CQ_TAIL, 0);  // a doorbell with nothing to run
    wr(hal, AIMC_REG_CTRL, AIMC_CTRL_FULL_RESET_MASK);
    reset_error = take_error(hal);
    wait_idle(hal);
    if (reset_error == AIMC_ERR_BUSY) wr(hal, AIMC_REG_CTRL, AIMC_CTRL_FULL_RESET_MASK);
    status_after = rd(hal, AIMC_REG_CQ_STATUS);
  });
  EXPECT_EQ(reset_error, AIMC_ERR_BUSY);
  EXPECT_EQ(status_after, AIMC_STATE_IDLE) << "a reset that was accepted is undone by the queue";
}

// The host link's calendar forgets the past: every DMA apart from the one before it added an
// interval that was never freed, so a long-running chip (`aimc serve`) grew without bound (found
// by the device fuzzer's malloc tracing).
TEST(HostUnits, HostLinkCalendarStaysSmallOverManyTransfers) {
  Bench b(preset());
  b.run([&](aimc_hal_t hal) {
    aimc_dma_buf_t buf;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 64, &buf), AIMC_HAL_OK);
    wr(hal, AIMC_REG_DMA_HOST_ADDR, buf.bus_addr);
    wr(hal, AIMC_REG_DMA_DEV_ADDR, AIMC_SRAM_BASE);
    wr(hal, AIMC_REG_DMA_LEN, 64);
    for (int i = 0; i < 3000; ++i) {
      wr(hal, AIMC_REG_DMA_START, 1);
      wait_idle(hal);  // the next transfer starts later: its own interval on the link
    }
  });
  EXPECT_LT(b.chip.host_link().intervals(), 1100u);
}

TEST(HostUnits, TileWindowsAnswerForTheirTileAndColumn) {
  const config::PlatformConfig cfg = preset();
  Bench b(cfg);
  const uint32_t cols = static_cast<uint32_t>(cfg.tile.array.cols);
  const uint32_t tiles = static_cast<uint32_t>(cfg.tile_count());
  b.run([&](aimc_hal_t hal) {
    wr(hal, AIMC_TILE_REG(1, AIMC_TREG_TRIM(cols - 1)), static_cast<uint32_t>(-3));
    EXPECT_EQ(rd(hal, AIMC_TILE_REG(1, AIMC_TREG_TRIM(cols - 1))), static_cast<uint32_t>(-3));
    EXPECT_EQ(rd(hal, AIMC_TILE_REG(0, AIMC_TREG_TRIM(cols - 1))), 0u);  // another tile's
    EXPECT_EQ(rd(hal, AIMC_TILE_REG(1, AIMC_TREG_TRIM(cols - 2))), 0u);  // another column's
    const uint32_t too_big = (1u << cfg.tile.adc.bits) + 1u;
    wr(hal, AIMC_TILE_REG(2, AIMC_TREG_TRIM(0)), too_big);
    EXPECT_REFUSED(hal, AIMC_ERR_BAD_VALUE, AIMC_TILE_REG(2, AIMC_TREG_TRIM(0)));
    wr(hal, AIMC_TILE_REG(1, AIMC_TREG_MVMS), 5);
    EXPECT_REFUSED(hal, AIMC_ERR_RO_WRITE, AIMC_TILE_REG(1, AIMC_TREG_MVMS));
    wr(hal, AIMC_TILE_REG(3, AIMC_TREG_CAL), 1);  // nothing programmed to calibrate
    EXPECT_REFUSED(hal, AIMC_ERR_NOT_PROGRAMMED, AIMC_TILE_REG(3, AIMC_TREG_CAL));
    EXPECT_EQ(rd(hal, AIMC_TILE_REG(3, AIMC_TREG_CAL)), 0u);  // write-only
    wr(hal, AIMC_TILE_REG(3, AIMC_TREG_GAIN), 0x00018000u);
    wr(hal, AIMC_TILE_REG(3, AIMC_TREG_CAL_REF), 1234u);
    EXPECT_EQ(rd(hal, AIMC_TILE_REG(3, AIMC_TREG_GAIN)), 0x00018000u);
    EXPECT_EQ(rd(hal, AIMC_TILE_REG(3, AIMC_TREG_CAL_REF)), 1234u);
    EXPECT_EQ(rd(hal, AIMC_TILE_REG(2, AIMC_TREG_GAIN)), 0x00010000u);  // reset 1.0
    uint32_t v = 0;
    EXPECT_EQ(hal.ops->read32(hal.ctx, AIMC_TILE_REG(tiles, AIMC_TREG_STATUS), &v), AIMC_HAL_BUS_ERROR);
    EXPECT_REFUSED(hal, AIMC_ERR_UNMAPPED, AIMC_TILE_REG(tiles, AIMC_TREG_STATUS));
    EXPECT_EQ(hal.ops->read32(hal.ctx, AIMC_TILE_REG(0, AIMC_TREG_TRIM(cols)), &v), AIMC_HAL_BUS_ERROR);
    EXPECT_REFUSED(hal, AIMC_ERR_UNMAPPED, AIMC_TILE_REG(0, AIMC_TREG_TRIM(cols)));
  });
}

TEST(HostUnits, PeekReadsByNameForTests) {
  Bench b(preset());
  uint32_t id = 0, scratch = 0, start = 1, nothing = 1;
  b.run([&](aimc_hal_t hal) {
    wr(hal, AIMC_REG_SCRATCH, 0xC0FFEEu);
    wr(hal, AIMC_REG_DMA_START, 0);  // bit 0 clear: no transfer
    b.chip.cpu().sync();
    id = b.chip.host().peek("ID");
    scratch = b.chip.host().peek("SCRATCH");
    start = b.chip.host().peek("DMA_START");
    nothing = b.chip.host().peek("NO_SUCH_REGISTER");
  });
  EXPECT_EQ(id, AIMC_CHIP_ID);
  EXPECT_EQ(scratch, 0xC0FFEEu);
  EXPECT_EQ(start, 0u);  // write-only
  EXPECT_EQ(nothing, 0u);
}

}  // namespace
}  // namespace aimc::testing

namespace aimc::testing {
namespace {

// CTRL.FULL_RESET returns every register to its reset value, the tiles' windows included, and
// is refused while an engine is busy.
TEST(HostUnits, FullResetRestoresEveryRegisterAndIsRefusedWhileBusy) {
  Bench b(preset());
  const uint32_t tol = static_cast<uint32_t>(std::lround(b.cfg.programming.tolerance_rel * 1e6));
  std::vector<std::pair<uint32_t, uint32_t>> after;  // (value read, expected)
  uint32_t power_after = 99;
  b.run([&](aimc_hal_t hal) {
    const std::vector<std::pair<uint32_t, uint32_t>> dirty = {
        {AIMC_TILE_REG(2, AIMC_TREG_GAIN), 7u},        {AIMC_TILE_REG(2, AIMC_TREG_TRIM(0)), 3u},
        {AIMC_TILE_REG(0, AIMC_TREG_CAL_REF), 99u},    {AIMC_REG_IRQ_ENABLE, 0x3Fu},
        {AIMC_REG_SCRATCH, 0x1234u},                   {AIMC_REG_TEMP_ALARM_MC, 90000u},
        {AIMC_REG_PROG_TOL_REL_PPM, tol + 17},         {AIMC_REG_CQ_ENTRIES, 8u},
        {AIMC_REG_SEQ_PROG_ADDR, AIMC_SEQ_MEM_BASE + 64}};
    for (const auto& [off, v] : dirty) wr(hal, off, v);
    wr(hal, AIMC_REG_POWER_STATE, AIMC_POWER_IDLE);
    // Busy: refused, nothing reset.
    aimc_dma_buf_t buf;
    start_long_dma(hal, buf);
    wr(hal, AIMC_REG_CTRL, AIMC_CTRL_FULL_RESET_MASK);
    EXPECT_REFUSED(hal, AIMC_ERR_BUSY, AIMC_REG_CTRL);
    EXPECT_EQ(rd(hal, AIMC_REG_SCRATCH), 0x1234u);
    wait_idle(hal);
    wr(hal, AIMC_REG_CTRL, AIMC_CTRL_FULL_RESET_MASK);
    const std::vector<uint32_t> reset = {0x10000u, 0u, 0u, 0u, 0u, 85000u, tol, 0u, 0u};
    for (size_t i = 0; i < dirty.size(); ++i) after.push_back({rd(hal, dirty[i].first), reset[i]});
    power_after = rd(hal, AIMC_REG_POWER_STATE);
    EXPECT_EQ(rd(hal, AIMC_REG_ERROR_CODE), AIMC_ERR_NONE);
    EXPECT_EQ(rd(hal, AIMC_REG_IRQ_STATUS), 0u);
    EXPECT_EQ(rd(hal, AIMC_REG_DMA_STATUS), AIMC_STATE_IDLE);
    EXPECT_EQ(rd(hal, AIMC_REG_CAPS_SRAM_BYTES), static_cast<uint32_t>(b.cfg.sram.size_kib) * 1024u);
  });
  for (size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].first, after[i].second) << "register " << i;
  EXPECT_EQ(power_after, AIMC_POWER_ACTIVE);
  EXPECT_EQ(b.chip.host().power_state(), AIMC_POWER_ACTIVE);
}

}  // namespace
}  // namespace aimc::testing
