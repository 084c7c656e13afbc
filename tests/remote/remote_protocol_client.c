/* remote_protocol_client: firmware that exercises every HAL operation of the remote HAL against
 * `aimc serve` (run by remote_test.sh). Built with aimc_fw_remote_main, so it also tests the
 * remote main's option parsing: the script passes `--connect ADDRESS -- --big`.
 *
 * Checks: ID and VERSION; IRQ_ENABLE write/read; a DMA round trip host -> SRAM -> host through
 * the driver's aimc_dma; an unmapped register read answers AIMC_HAL_BUS_ERROR; wait_irq returns
 * on a DMA-done interrupt and times out (advancing chip time) when none is pending; bad dma_sync
 * ranges are refused; with --big, a 20 MiB buffer round trip (several protocol chunks).
 * Exit code 0 when every check passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aimc_driver.h"
#include "aimc_fw.h"
#include "aimc_regs.h"

static int g_checks, g_failures;

#define CHECK(cond, ...)                                   \
  do {                                                     \
    ++g_checks;                                            \
    if (!(cond)) {                                         \
      ++g_failures;                                        \
      fprintf(stderr, "remote_protocol_client: FAIL: " __VA_ARGS__); \
      fputc('\n', stderr);                                 \
    }                                                      \
  } while (0)

static uint32_t rd(aimc_hal_t hal, uint32_t off) {
  uint32_t v = 0xDEADDEADu;
  int rc = hal.ops->read32(hal.ctx, off, &v);
  CHECK(rc == AIMC_HAL_OK, "read32(0x%X) returned %d", (unsigned)off, rc);
  return v;
}

static uint64_t chip_time_ns(aimc_hal_t hal) {
  const uint32_t lo = rd(hal, AIMC_REG_PERF_TIME_NS_LO);
  const uint32_t hi = rd(hal, AIMC_REG_PERF_TIME_NS_HI);
  return (uint64_t)hi << 32 | lo;
}

static void test_registers(aimc_hal_t hal) {
  uint32_t v = 0;
  int rc;
  CHECK(rd(hal, AIMC_REG_ID) == AIMC_CHIP_ID, "ID is not 'AIMC'");
  CHECK((rd(hal, AIMC_REG_VERSION) >> 16) == 1u, "VERSION major is not 1");
  CHECK(hal.ops->write32(hal.ctx, AIMC_REG_IRQ_ENABLE, AIMC_IRQ_DMA_DONE | AIMC_IRQ_ERROR) ==
            AIMC_HAL_OK,
        "write32 IRQ_ENABLE failed");
  CHECK(rd(hal, AIMC_REG_IRQ_ENABLE) == (AIMC_IRQ_DMA_DONE | AIMC_IRQ_ERROR),
        "IRQ_ENABLE does not read back what was written");
  CHECK(hal.ops->write32(hal.ctx, AIMC_REG_SCRATCH, 0xA5A5F00Du) == AIMC_HAL_OK, "SCRATCH write");
  CHECK(rd(hal, AIMC_REG_SCRATCH) == 0xA5A5F00Du, "SCRATCH does not read back");

  /* Unmapped: a bus error, and the chip records it. */
  rc = hal.ops->read32(hal.ctx, 0x00000FFCu, &v);
  CHECK(rc == AIMC_HAL_BUS_ERROR, "unmapped read32(0xFFC) returned %d, not AIMC_HAL_BUS_ERROR", rc);
  CHECK(rd(hal, AIMC_REG_ERROR_CODE) == AIMC_ERR_UNMAPPED, "ERROR_CODE is not ERR_UNMAPPED");
  /* Clean up: clear the error and its interrupt. */
  hal.ops->write32(hal.ctx, AIMC_REG_ERROR_CODE, 0xFFFFFFFFu);
  hal.ops->write32(hal.ctx, AIMC_REG_IRQ_STATUS, 0xFFFFFFFFu);
  CHECK(rd(hal, AIMC_REG_IRQ_STATUS) == 0, "IRQ_STATUS not clear after W1C");
}

static void test_dma_roundtrip(aimc_hal_t hal) {
  aimc_dev_t dev;
  aimc_dma_buf_t a, b;
  const uint32_t n = 4096;
  uint32_t i;
  int rc;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  rc = aimc_init(&dev, hal);
  CHECK(rc == AIMC_OK, "aimc_init: %s", aimc_strerror(rc));
  if (rc != AIMC_OK) return;
  CHECK(hal.ops->dma_alloc(hal.ctx, n, &a) == AIMC_HAL_OK && a.cpu && a.size == n, "dma_alloc a");
  CHECK(hal.ops->dma_alloc(hal.ctx, n, &b) == AIMC_HAL_OK && b.cpu && b.size == n, "dma_alloc b");
  if (!a.cpu || !b.cpu) return;
  CHECK(a.bus_addr != b.bus_addr && a.bus_addr != 0, "bus addresses 0x%X 0x%X",
        (unsigned)a.bus_addr, (unsigned)b.bus_addr);
  for (i = 0; i < n; ++i) ((uint8_t*)a.cpu)[i] = (uint8_t)(i * 7u + 3u);
  memset(b.cpu, 0xEE, n);
  /* aimc_dma syncs TO_DEVICE before host->chip and FROM_DEVICE after chip->host. */
  rc = aimc_dma(&dev, &a, 0, AIMC_SRAM_BASE, n, 0);
  CHECK(rc == AIMC_OK, "DMA host->SRAM: %s", aimc_strerror(rc));
  rc = aimc_dma(&dev, &b, 0, AIMC_SRAM_BASE, n, 1);
  CHECK(rc == AIMC_OK, "DMA SRAM->host: %s", aimc_strerror(rc));
  CHECK(memcmp(a.cpu, b.cpu, n) == 0, "DMA round trip through SRAM: data differ");

  /* Partial ranges: the second half of a goes to SRAM+n, comes back into the start of b. */
  memset(b.cpu, 0, n);
  rc = aimc_dma(&dev, &a, n / 2, AIMC_SRAM_BASE + n, n / 2, 0);
  CHECK(rc == AIMC_OK, "partial DMA host->SRAM: %s", aimc_strerror(rc));
  rc = aimc_dma(&dev, &b, 0, AIMC_SRAM_BASE + n, n / 2, 1);
  CHECK(rc == AIMC_OK, "partial DMA SRAM->host: %s", aimc_strerror(rc));
  CHECK(memcmp((uint8_t*)a.cpu + n / 2, b.cpu, n / 2) == 0, "partial round trip: data differ");

  /* dma_sync outside the buffer is refused. */
  CHECK(hal.ops->dma_sync(hal.ctx, &a, n - 4, 8, AIMC_DMA_TO_DEVICE) == AIMC_HAL_BUS_ERROR,
        "dma_sync past the end was accepted");

  /* wait_irq: a DMA-done interrupt, raised by a transfer started by hand. */
  hal.ops->write32(hal.ctx, AIMC_REG_IRQ_STATUS, 0xFFFFFFFFu);
  hal.ops->write32(hal.ctx, AIMC_REG_DMA_HOST_ADDR, a.bus_addr);
  hal.ops->write32(hal.ctx, AIMC_REG_DMA_DEV_ADDR, AIMC_SRAM_BASE);
  hal.ops->write32(hal.ctx, AIMC_REG_DMA_LEN, n);
  hal.ops->write32(hal.ctx, AIMC_REG_DMA_CTRL, 0);
  hal.ops->write32(hal.ctx, AIMC_REG_DMA_START, 1);
  rc = hal.ops->wait_irq(hal.ctx, 1000000000ull);
  CHECK(rc == AIMC_HAL_OK, "wait_irq for DMA done returned %d", rc);
  CHECK(rd(hal, AIMC_REG_IRQ_STATUS) & AIMC_IRQ_DMA_DONE, "IRQ_STATUS lacks DMA_DONE");
  hal.ops->write32(hal.ctx, AIMC_REG_IRQ_STATUS, 0xFFFFFFFFu);

  /* wait_irq with nothing pending: times out after the chip time given. */
  {
    const uint64_t t0 = chip_time_ns(hal);
    uint64_t t1;
    rc = hal.ops->wait_irq(hal.ctx, 5000);
    t1 = chip_time_ns(hal);
    CHECK(rc == AIMC_HAL_TIMEOUT, "wait_irq with no interrupt returned %d, not TIMEOUT", rc);
    CHECK(t1 >= t0 + 5000, "wait_irq timeout advanced chip time by %llu ns only",
          (unsigned long long)(t1 - t0));
  }

  hal.ops->dma_free(hal.ctx, &a);
  hal.ops->dma_free(hal.ctx, &b);
  CHECK(a.cpu == NULL && b.cpu == NULL, "dma_free did not clear the buffers");
  hal.ops->dma_free(hal.ctx, &a); /* twice: harmless */
  aimc_release(&dev);
}

/* 20 MiB through host memory and back: more than one AIMC_REMOTE_MAX_DATA chunk each way. */
static void test_big_buffer(aimc_hal_t hal) {
  const size_t n = 20u << 20;
  aimc_dma_buf_t big;
  size_t i;
  int rc;
  memset(&big, 0, sizeof big);
  rc = hal.ops->dma_alloc(hal.ctx, n, &big);
  CHECK(rc == AIMC_HAL_OK, "dma_alloc of 20 MiB returned %d", rc);
  if (rc != AIMC_HAL_OK) return;
  for (i = 0; i < n; i += 4) *(uint32_t*)((uint8_t*)big.cpu + i) = (uint32_t)(i * 2654435761u);
  CHECK(hal.ops->dma_sync(hal.ctx, &big, 0, n, AIMC_DMA_TO_DEVICE) == AIMC_HAL_OK,
        "20 MiB sync to device");
  memset(big.cpu, 0, n);
  CHECK(hal.ops->dma_sync(hal.ctx, &big, 0, n, AIMC_DMA_FROM_DEVICE) == AIMC_HAL_OK,
        "20 MiB sync from device");
  for (i = 0; i < n; i += 4)
    if (*(uint32_t*)((uint8_t*)big.cpu + i) != (uint32_t)(i * 2654435761u)) break;
  CHECK(i == n, "20 MiB round trip differs at byte %zu", i);
  hal.ops->dma_free(hal.ctx, &big);
  /* More than the VP's host memory: no memory, not a crash. */
  rc = hal.ops->dma_alloc(hal.ctx, (size_t)1 << 30, &big);
  CHECK(rc == AIMC_HAL_NO_MEMORY, "dma_alloc of 1 GiB returned %d, not NO_MEMORY", rc);
}

int aimc_fw_main(aimc_hal_t hal, int argc, char** argv) {
  int i, big = 0;
  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--big") == 0) {
      big = 1;
    } else {
      fprintf(stderr, "remote_protocol_client: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  test_registers(hal);
  test_dma_roundtrip(hal);
  if (big) test_big_buffer(hal);
  printf("remote_protocol_client: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
