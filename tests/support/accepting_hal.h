// A HAL (firmware_stubs/include/aimc_hal.h) that answers every access at once: every interrupt
// but ERROR pending, programming always done, DMA buffers from the C heap. What the C driver makes
// of an image by itself, without a chip (tests/compiler, tests/fuzz/fuzz_image_driver.cpp).
#pragma once

#include <cstdint>
#include <cstdlib>

#include "aimc_driver.h"
#include "aimc_regs.h"

namespace aimc::test::accepting_hal {

inline int read32(void*, uint32_t offset, uint32_t* value) {
  *value = offset == AIMC_REG_IRQ_STATUS    ? ~uint32_t(AIMC_IRQ_ERROR)
           : offset == AIMC_REG_PROG_STATUS ? uint32_t(AIMC_STATE_DONE)
                                            : 0u;
  return AIMC_HAL_OK;
}
inline int write32(void*, uint32_t, uint32_t) { return AIMC_HAL_OK; }
inline int dma_alloc(void*, size_t size, aimc_dma_buf_t* buf) {
  buf->cpu = std::calloc(size ? size : 1, 1);
  buf->bus_addr = 0x1000;
  buf->size = size;
  return buf->cpu ? AIMC_HAL_OK : AIMC_HAL_NO_MEMORY;
}
inline void dma_free(void*, aimc_dma_buf_t* buf) { std::free(buf->cpu); }
inline int dma_sync(void*, aimc_dma_buf_t*, size_t, size_t, int) { return AIMC_HAL_OK; }
inline int wait_irq(void*, uint64_t) { return AIMC_HAL_OK; }
inline const aimc_hal_ops_t ops = {read32, write32, dma_alloc, dma_free, dma_sync, wait_irq};

}  // namespace aimc::test::accepting_hal
