/* my_fw: a user's firmware. Identifies the chip through the driver and moves a buffer to the
 * activation SRAM and back by DMA; prints what it found. Exit code 0 when the data came back. */
#include <stdio.h>
#include <string.h>

#include "aimc_driver.h"
#include "aimc_fw.h"
#include "aimc_regs.h"

int aimc_fw_main(aimc_hal_t hal, int argc, char** argv) {
  aimc_dev_t dev;
  aimc_dma_buf_t buf;
  uint32_t i, bad = 0;
  int rc;
  (void)argv;
  if (argc > 1) {
    fprintf(stderr, "my_fw: takes no arguments\n");
    return 2;
  }
  if ((rc = aimc_init(&dev, hal)) != AIMC_OK) {
    fprintf(stderr, "my_fw: aimc_init: %s\n", aimc_strerror(rc));
    return 1;
  }
  printf("my_fw: %u tiles of %u x %u, ADC %u bits\n", (unsigned)dev.caps.tiles,
         (unsigned)dev.caps.array_rows, (unsigned)dev.caps.array_cols, (unsigned)dev.caps.adc_bits);
  memset(&buf, 0, sizeof buf);
  if (hal.ops->dma_alloc(hal.ctx, 256, &buf) != AIMC_HAL_OK) {
    fprintf(stderr, "my_fw: no DMA buffer\n");
    aimc_release(&dev);
    return 1;
  }
  for (i = 0; i < 256; ++i) ((uint8_t*)buf.cpu)[i] = (uint8_t)(i * 7u + 3u);
  rc = aimc_dma(&dev, &buf, 0, AIMC_SRAM_BASE, 256, 0 /* to the chip */);
  if (rc == AIMC_OK) {
    memset(buf.cpu, 0, 256);
    rc = aimc_dma(&dev, &buf, 0, AIMC_SRAM_BASE, 256, 1 /* to the host */);
  }
  for (i = 0; rc == AIMC_OK && i < 256; ++i) bad += ((uint8_t*)buf.cpu)[i] != (uint8_t)(i * 7u + 3u);
  hal.ops->dma_free(hal.ctx, &buf);
  aimc_release(&dev);
  if (rc != AIMC_OK || bad != 0) {
    fprintf(stderr, "my_fw: DMA round trip: %s, %u bytes differ\n", aimc_strerror(rc), (unsigned)bad);
    return 1;
  }
  printf("my_fw: DMA round trip of 256 bytes through the SRAM: ok\n");
  return 0;
}
