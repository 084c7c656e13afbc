// The driver and the in-process HAL behave as firmware expects after a failure, and as the remote
// HAL does (issue 17, firmware-facing defects). Each case elaborates a chip: one process each.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "aimc_hw.h"
#include "aimc_image.h"
#include "aimc_regs.h"
#include "harness.h"

namespace aimc::testing {
namespace {

// A refused command-queue entry (here: a doorbell in STANDBY) used to leave the chip's CQ_HEAD on
// that entry while the driver's tail moved on, so every later aimc_infer_queued failed. The
// driver now starts the ring afresh after a failure.
TEST(Driver, QueuedInferenceWorksAgainAfterARefusedEntry) {
  Bench b(preset());
  const compiler::CompiledModel cm = bundled(b.cfg);
  const compiler::Dataset d = test_images(4);
  int refused = -99, after = -99, direct = -99;
  uint32_t refused_error = 0;
  std::vector<int32_t> queued_out, direct_out;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    const std::vector<float> x = row_major(d.images);
    std::vector<uint8_t> codes(x.size());
    ASSERT_EQ(aimc_quantize_inputs(&dev, x.data(), x.size(), codes.data()), AIMC_OK);
    queued_out.resize(4 * dev.out_features);
    direct_out.resize(4 * dev.out_features);
    ASSERT_EQ(aimc_set_power_state(&dev, AIMC_POWER_STANDBY), AIMC_OK);
    refused = aimc_infer_queued(&dev, codes.data(), 4, queued_out.data());
    refused_error = dev.device_error;
    ASSERT_EQ(aimc_set_power_state(&dev, AIMC_POWER_ACTIVE), AIMC_OK);
    after = aimc_infer_queued(&dev, codes.data(), 4, queued_out.data());
    direct = aimc_infer(&dev, codes.data(), 4, direct_out.data());
  });
  EXPECT_EQ(refused, AIMC_E_DEVICE);
  EXPECT_EQ(refused_error, AIMC_ERR_POWER_STATE);
  EXPECT_EQ(after, AIMC_OK);
  EXPECT_EQ(direct, AIMC_OK);
  // The same images through the queue and directly: the same classes (the read noise differs).
  ASSERT_EQ(queued_out.size(), direct_out.size());
  const size_t k = queued_out.size() / 4;
  for (size_t v = 0; v < 4; ++v) {
    auto top = [&](const std::vector<int32_t>& o) {
      return std::max_element(o.begin() + v * k, o.begin() + (v + 1) * k) - (o.begin() + v * k);
    };
    EXPECT_EQ(top(queued_out), top(direct_out)) << "image " << v;
  }
}

// aimc_wait_done used to acknowledge and drop every other source that fired while it waited: a
// temperature alarm during a DMA never reached the firmware. Now it is kept for aimc_take_irqs.
TEST(Driver, OtherInterruptSourcesReachTheFirmware) {
  Bench b(preset());
  uint32_t taken = 0, taken_again = 0;
  int rc = -99;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    wr(hal, AIMC_REG_IRQ_ENABLE, rd(hal, AIMC_REG_IRQ_ENABLE) | AIMC_IRQ_TEMP_ALARM);
    wr(hal, AIMC_REG_TEMP_ALARM_MC, 0);  // the chip is above 0 degC: the alarm fires now
    aimc_dma_buf_t buf;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 256, &buf), AIMC_HAL_OK);
    rc = aimc_dma(&dev, &buf, 0, AIMC_SRAM_BASE, 256, 0);
    taken = aimc_take_irqs(&dev);
    taken_again = aimc_take_irqs(&dev);
  });
  EXPECT_EQ(rc, AIMC_OK);
  EXPECT_EQ(taken, uint32_t(AIMC_IRQ_TEMP_ALARM));
  EXPECT_EQ(taken_again, 0u);
}

// device_error describes the last call: a call that succeeds after one that failed clears it. A
// zero-length DMA moves nothing and succeeds (it used to be a DMA_FAULT).
TEST(Driver, DeviceErrorIsThatOfTheLastCallAndZeroLengthDmaSucceeds) {
  Bench b(preset());
  int failed = -99, ok = -99, empty = -99;
  uint32_t error_after_failure = 0, error_after_success = 1, error_after_empty = 1;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    aimc_dma_buf_t buf;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 256, &buf), AIMC_HAL_OK);
    failed = aimc_dma(&dev, &buf, 0, 0xFFFFFF00u, 256, 0);  // no memory there
    error_after_failure = dev.device_error;
    ok = aimc_dma(&dev, &buf, 0, AIMC_SRAM_BASE, 256, 0);
    error_after_success = dev.device_error;
    empty = aimc_dma(&dev, &buf, 0, AIMC_SRAM_BASE, 0, 0);
    error_after_empty = dev.device_error;
  });
  EXPECT_EQ(failed, AIMC_E_DEVICE);
  EXPECT_EQ(error_after_failure, AIMC_ERR_DMA_FAULT);
  EXPECT_EQ(ok, AIMC_OK);
  EXPECT_EQ(error_after_success, AIMC_ERR_NONE);
  EXPECT_EQ(empty, AIMC_OK);
  EXPECT_EQ(error_after_empty, AIMC_ERR_NONE);
}

// The in-process HAL refuses what the remote HAL refuses (docs/remote-protocol.md): an empty
// buffer, a sync in an unknown direction, a sync of a freed buffer; and it clamps a wait the same
// way (UINT64_MAX waits AIMC_HAL_MAX_WAIT_NS, not 9.2e15 ns).
TEST(Driver, InProcessHalRefusesWhatTheRemoteHalRefuses) {
  Bench b(preset());
  int alloc0 = -99, bad_dir = -99, good = -99, after_free = -99, wait = -99;
  uint64_t waited_ps = 0;
  b.run([&](aimc_hal_t hal) {
    aimc_dma_buf_t buf{};
    alloc0 = hal.ops->dma_alloc(hal.ctx, 0, &buf);
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 64, &buf), AIMC_HAL_OK);
    good = hal.ops->dma_sync(hal.ctx, &buf, 0, 64, AIMC_DMA_TO_DEVICE);
    bad_dir = hal.ops->dma_sync(hal.ctx, &buf, 0, 64, 7);
    hal.ops->dma_free(hal.ctx, &buf);
    after_free = hal.ops->dma_sync(hal.ctx, &buf, 0, 64, AIMC_DMA_FROM_DEVICE);
    const uint64_t t0 = b.now_ps();
    wait = hal.ops->wait_irq(hal.ctx, UINT64_MAX);  // nothing is running: no interrupt comes
    waited_ps = b.now_ps() - t0;
  });
  EXPECT_EQ(alloc0, AIMC_HAL_NO_MEMORY);
  EXPECT_EQ(good, AIMC_HAL_OK);
  EXPECT_EQ(bad_dir, AIMC_HAL_BUS_ERROR);
  EXPECT_EQ(after_free, AIMC_HAL_BUS_ERROR);
  EXPECT_EQ(wait, AIMC_HAL_TIMEOUT);
  EXPECT_EQ(waited_ps, AIMC_HAL_MAX_WAIT_NS * 1000u);
}

// An image whose max_batch cannot fit the SRAM is a bad image (AIMC_E_IMAGE), not a failed host
// allocation (AIMC_E_HAL).
TEST(Driver, EnormousMaxBatchIsABadImage) {
  Bench b(preset());
  const compiler::CompiledModel cm = bundled(b.cfg);
  aimc_image_header_t ih;
  std::memcpy(&ih, cm.image.data(), sizeof ih);
  std::vector<uint8_t> image = cm.image;
  for (uint32_t i = 0; i < ih.section_count; ++i) {
    aimc_image_section_t sec;
    std::memcpy(&sec, image.data() + sizeof ih + i * sizeof sec, sizeof sec);
    const uint32_t huge = 0x40000000u;
    if (sec.type == AIMC_SECTION_PROGRAM)
      std::memcpy(image.data() + sec.offset + offsetof(aimc_program_hdr_t, max_batch), &huge, sizeof huge);
  }
  int rc = -99;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    rc = aimc_load_image(&dev, image.data(), image.size());
  });
  EXPECT_EQ(rc, AIMC_E_IMAGE);
}

// A command ring where no host memory is: ERROR_ADDR names the entry's address (it used to be 0,
// the entry index).
TEST(Driver, UnreachableCommandRingNamesItsAddress) {
  Bench b(preset());
  uint32_t code = 0, addr = 0;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    wr(hal, AIMC_REG_CQ_BASE, 0xFFFFF000u);
    wr(hal, AIMC_REG_CQ_ENTRIES, 4);
    wr(hal, AIMC_REG_CQ_TAIL, 1);
    aimc_wait_done(&dev, AIMC_IRQ_CQ_DONE);
    code = dev.device_error;
    addr = dev.device_error_addr;
  });
  EXPECT_EQ(code, AIMC_ERR_DMA_FAULT);
  EXPECT_EQ(addr, 0xFFFFF000u);
}

}  // namespace
}  // namespace aimc::testing

namespace aimc::testing {
namespace {

// aimc_init establishes what the driver relies on: a firmware before it may have left the tiles
// in STANDBY, where every command is refused; the soft reset returns them to ACTIVE.
TEST(Driver, InitLeavesTheChipActive) {
  Bench b(preset());
  uint32_t before = 99, after = 99;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_set_power_state(&dev, AIMC_POWER_STANDBY), AIMC_OK);
    before = rd(hal, AIMC_REG_POWER_STATE);
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    after = rd(hal, AIMC_REG_POWER_STATE);
  });
  EXPECT_EQ(before, uint32_t(AIMC_POWER_STANDBY));
  EXPECT_EQ(after, uint32_t(AIMC_POWER_ACTIVE));
}

}  // namespace
}  // namespace aimc::testing
