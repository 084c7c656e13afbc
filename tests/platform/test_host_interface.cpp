// The host interface answers misuse as hardware would: a TLM error response or a flagged, ignored
// access, an error code and an error interrupt; the simulation goes on.
#include <gtest/gtest.h>

#include <cstring>

#include "aimc_regs.h"
#include "harness.h"

namespace aimc::testing {
namespace {

struct Regs {
  aimc_hal_t hal;
  uint32_t rd(uint32_t off) {
    uint32_t v = 0xDEADBEEF;
    EXPECT_EQ(hal.ops->read32(hal.ctx, off, &v), AIMC_HAL_OK) << "read " << off;
    return v;
  }
  void wr(uint32_t off, uint32_t v) {
    EXPECT_EQ(hal.ops->write32(hal.ctx, off, v), AIMC_HAL_OK) << "write " << off;
  }
};

TEST(HostInterface, IdentityAndCapabilitiesComeFromTheConfig) {
  Bench b(preset({"grid.rows=2", "tile.adc.bits=6"}));
  b.run([&](aimc_hal_t hal) {
    Regs r{hal};
    EXPECT_EQ(r.rd(AIMC_REG_ID), AIMC_CHIP_ID);
    const uint32_t grid = r.rd(AIMC_REG_CAPS_GRID);
    EXPECT_EQ((grid & AIMC_CAPS_GRID_ROWS_MASK) >> AIMC_CAPS_GRID_ROWS_SHIFT, 2u);
    EXPECT_EQ((grid & AIMC_CAPS_GRID_TILES_MASK) >> AIMC_CAPS_GRID_TILES_SHIFT, 8u);
    EXPECT_EQ((r.rd(AIMC_REG_CAPS_BITS) & AIMC_CAPS_BITS_ADC_MASK) >> AIMC_CAPS_BITS_ADC_SHIFT, 6u);
    aimc_dev_t dev;
    EXPECT_EQ(aimc_init(&dev, hal), AIMC_OK);
    EXPECT_EQ(dev.caps.array_rows, 400u);
  });
  EXPECT_TRUE(b.chip.cpu().finished());
}

TEST(HostInterface, UnmappedAndMisalignedAccessesAreBusErrors) {
  Bench b(preset());
  b.run([&](aimc_hal_t hal) {
    Regs r{hal};
    r.wr(AIMC_REG_IRQ_ENABLE, AIMC_IRQ_ERROR);
    uint32_t v = 0;
    EXPECT_EQ(hal.ops->read32(hal.ctx, 0x0F00, &v), AIMC_HAL_BUS_ERROR);  // no register there
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_CODE), AIMC_ERR_UNMAPPED);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_ADDR), 0x0F00u);
    EXPECT_NE(r.rd(AIMC_REG_IRQ_STATUS) & AIMC_IRQ_ERROR, 0u);
    EXPECT_NE(r.rd(AIMC_REG_STATUS) & AIMC_STATUS_ERROR_MASK, 0u);
    r.wr(AIMC_REG_ERROR_CODE, 0xFFFFFFFFu);  // W1C clears
    r.wr(AIMC_REG_IRQ_STATUS, AIMC_IRQ_ERROR);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_CODE), AIMC_ERR_NONE);
    EXPECT_EQ(hal.ops->write32(hal.ctx, AIMC_REG_IRQ_ENABLE + 2, 1), AIMC_HAL_BUS_ERROR);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_CODE), AIMC_ERR_ACCESS);
    EXPECT_EQ(hal.ops->read32(hal.ctx, 0x10000, &v), AIMC_HAL_BUS_ERROR);  // past the bank
  });
  EXPECT_TRUE(b.chip.cpu().finished());
}

TEST(HostInterface, WrongSizeByteEnablesAndBurstsGetTheMatchingTlmErrors) {
  Bench b(preset());
  std::vector<tlm::tlm_response_status> got;
  std::vector<uint32_t> codes;
  b.run([&](aimc_hal_t hal) {
    Regs r{hal};
    auto send = [&](unsigned len, unsigned streaming, unsigned char* be, unsigned be_len) {
      uint8_t data[8] = {0};
      tlm::tlm_generic_payload gp;
      gp.set_command(tlm::TLM_READ_COMMAND);
      gp.set_address(AIMC_REG_SCRATCH);
      gp.set_data_ptr(data);
      gp.set_data_length(len);
      gp.set_streaming_width(streaming);
      gp.set_byte_enable_ptr(be);
      gp.set_byte_enable_length(be_len);
      got.push_back(b.chip.cpu().raw_access(gp));
      codes.push_back(r.rd(AIMC_REG_ERROR_CODE));
      r.wr(AIMC_REG_ERROR_CODE, 0xFFFFFFFFu);
    };
    send(2, 2, nullptr, 0);  // a 16-bit access
    send(8, 8, nullptr, 0);  // a 64-bit access
    unsigned char be[4] = {0xFF, 0, 0xFF, 0};
    send(4, 4, be, 4);       // byte enables
    send(8, 4, nullptr, 0);  // a streaming burst
    send(4, 4, nullptr, 0);  // and a correct one still works
  });
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0], tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(got[1], tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(got[2], tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  EXPECT_EQ(got[3], tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_EQ(got[4], tlm::TLM_OK_RESPONSE);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(codes[i], AIMC_ERR_ACCESS) << i;
  EXPECT_EQ(codes[4], AIMC_ERR_NONE);
  EXPECT_TRUE(b.chip.cpu().finished());
}

TEST(HostInterface, ReadOnlyWriteIsIgnoredAndFlagged) {
  Bench b(preset());
  b.run([&](aimc_hal_t hal) {
    Regs r{hal};
    r.wr(AIMC_REG_ID, 0x12345678u);  // the access itself succeeds
    EXPECT_EQ(r.rd(AIMC_REG_ID), AIMC_CHIP_ID);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_CODE), AIMC_ERR_RO_WRITE);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_ADDR), static_cast<uint32_t>(AIMC_REG_ID));
  });
}

TEST(HostInterface, DmaOutsideMemoryFaultsAndWritesNothing) {
  Bench b(preset());
  std::vector<uint8_t> before(64), after(64);
  std::memcpy(before.data(), b.chip.sram().data() + b.chip.sram().size_bytes() - 64, 64);
  int rc = -99;
  aimc_dev_t dev;
  b.run([&](aimc_hal_t hal) {
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    aimc_dma_buf_t buf;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 256, &buf), AIMC_HAL_OK);
    std::memset(buf.cpu, 0xAB, 256);
    // 256 bytes starting 64 bytes before the end of the SRAM: the tail is unmapped.
    const uint32_t addr = AIMC_SRAM_BASE + static_cast<uint32_t>(b.chip.sram().size_bytes()) - 64;
    rc = aimc_dma(&dev, &buf, 0, addr, 256, 0);
    Regs r{hal};
    EXPECT_EQ(r.rd(AIMC_REG_DMA_STATUS), AIMC_STATE_ERROR);
  });
  EXPECT_EQ(rc, AIMC_E_DEVICE);
  EXPECT_EQ(dev.device_error, AIMC_ERR_DMA_FAULT);
  std::memcpy(after.data(), b.chip.sram().data() + b.chip.sram().size_bytes() - 64, 64);
  EXPECT_EQ(before, after);  // nothing was written
}

TEST(HostInterface, CommandWhileBusyIsRejected) {
  Bench b(preset());
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    aimc_dma_buf_t buf;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 65536, &buf), AIMC_HAL_OK);
    Regs r{hal};
    r.wr(AIMC_REG_DMA_HOST_ADDR, buf.bus_addr);
    r.wr(AIMC_REG_DMA_DEV_ADDR, AIMC_SRAM_BASE);
    r.wr(AIMC_REG_DMA_LEN, 65536);
    r.wr(AIMC_REG_DMA_CTRL, 0);
    r.wr(AIMC_REG_DMA_START, 1);
    r.wr(AIMC_REG_DMA_START, 1);  // the first is still running
    EXPECT_NE(r.rd(AIMC_REG_STATUS) & AIMC_STATUS_DMA_BUSY_MASK, 0u);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_CODE), AIMC_ERR_BUSY);
    r.wr(AIMC_REG_ERROR_CODE, 0xFFFFFFFFu);
    r.wr(AIMC_REG_IRQ_STATUS, 0xFFFFFFFFu);
    EXPECT_EQ(aimc_wait_done(&dev, AIMC_IRQ_DMA_DONE), AIMC_OK);  // the first completes
    EXPECT_EQ(r.rd(AIMC_REG_DMA_STATUS), AIMC_STATE_DONE);
  });
  EXPECT_TRUE(b.chip.cpu().finished());
}

TEST(HostInterface, InferenceWithoutWeightsIsAnError) {
  Bench b(preset());
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    EXPECT_EQ(aimc_infer(&dev, nullptr, 1, nullptr), AIMC_E_ARG);
    uint8_t codes[4] = {0};
    int32_t out[4];
    EXPECT_EQ(aimc_infer(&dev, codes, 1, out), AIMC_E_STATE);  // driver: no image loaded
    Regs r{hal};
    r.wr(AIMC_REG_SEQ_PROG_ADDR, AIMC_SEQ_MEM_BASE);  // the chip itself: no valid program
    r.wr(AIMC_REG_SEQ_BATCH, 1);
    r.wr(AIMC_REG_SEQ_START, 1);
    EXPECT_EQ(aimc_wait_done(&dev, AIMC_IRQ_INFER_DONE), AIMC_E_DEVICE);
    EXPECT_EQ(dev.device_error, AIMC_ERR_BAD_PROGRAM);
  });
  EXPECT_TRUE(b.chip.cpu().finished());
}

}  // namespace
}  // namespace aimc::testing
