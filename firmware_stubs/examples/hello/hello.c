/* hello: identifies the chip and runs a self-test through the driver and the HAL.
 *
 *   hello [--quiet]
 *
 * Prints the ID, register map version and capabilities, then checks:
 *   1. SCRATCH holds what is written to it (fixed patterns and walking ones);
 *   2. a DMA loopback: a pattern goes from host memory into the activation SRAM and back into a
 *      second buffer, and the two must match;
 *   3. misuse is answered: a write to the read-only ID register sets ERROR_CODE = RO_WRITE and
 *      raises IRQ ERROR, and clearing both leaves the chip clean;
 *   4. afterwards no interrupt is pending, ERROR_CODE is clear and no engine is busy.
 * Exit code 0 when every check passed, 1 otherwise (each failure is printed on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aimc_driver.h"
#include "aimc_fw.h"
#include "aimc_regs.h"

static int g_checks, g_failures;

#define CHECK(cond, ...)                           \
  do {                                             \
    ++g_checks;                                    \
    if (!(cond)) {                                 \
      ++g_failures;                                \
      fprintf(stderr, "hello: FAIL: " __VA_ARGS__); \
      fputc('\n', stderr);                         \
    }                                              \
  } while (0)

static uint32_t reg(aimc_hal_t hal, uint32_t offset) {
  uint32_t v = 0;
  if (hal.ops->read32(hal.ctx, offset, &v) != AIMC_HAL_OK) {
    ++g_failures;
    fprintf(stderr, "hello: FAIL: read of 0x%03X got a bus error\n", (unsigned)offset);
  }
  return v;
}

static void test_scratch(aimc_hal_t hal) {
  static const uint32_t patterns[] = {0x00000000u, 0xFFFFFFFFu, 0xAAAAAAAAu, 0x55555555u,
                                      0x12345678u, 0xDEADBEEFu};
  size_t i;
  int bit;
  for (i = 0; i < sizeof patterns / sizeof patterns[0]; ++i) {
    uint32_t got;
    CHECK(hal.ops->write32(hal.ctx, AIMC_REG_SCRATCH, patterns[i]) == AIMC_HAL_OK,
          "SCRATCH write 0x%08X: bus error", (unsigned)patterns[i]);
    got = reg(hal, AIMC_REG_SCRATCH);
    CHECK(got == patterns[i], "SCRATCH: wrote 0x%08X, read 0x%08X", (unsigned)patterns[i],
          (unsigned)got);
  }
  for (bit = 0; bit < 32; ++bit) { /* walking ones: no stuck or shorted bits */
    const uint32_t p = 1u << bit;
    uint32_t got;
    hal.ops->write32(hal.ctx, AIMC_REG_SCRATCH, p);
    got = reg(hal, AIMC_REG_SCRATCH);
    CHECK(got == p, "SCRATCH walking one, bit %d: read 0x%08X", bit, (unsigned)got);
  }
  hal.ops->write32(hal.ctx, AIMC_REG_SCRATCH, 0u);
}

static void test_dma_loopback(aimc_dev_t* dev) {
  aimc_dma_buf_t src, dst;
  uint32_t len = 4096u, i, x = 0x2545F491u, mismatches = 0, first_bad = 0;
  int rc;
  if (dev->caps.sram_bytes < len) len = dev->caps.sram_bytes & ~3u;
  memset(&src, 0, sizeof src);
  memset(&dst, 0, sizeof dst);
  if (dev->hal.ops->dma_alloc(dev->hal.ctx, len, &src) != AIMC_HAL_OK ||
      dev->hal.ops->dma_alloc(dev->hal.ctx, len, &dst) != AIMC_HAL_OK) {
    CHECK(0, "DMA loopback: no DMA buffers of %u bytes", (unsigned)len);
    goto out;
  }
  for (i = 0; i < len; ++i) { /* xorshift: no two neighbouring bytes alike */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    ((uint8_t*)src.cpu)[i] = (uint8_t)x;
  }
  memset(dst.cpu, 0xEE, len);
  rc = aimc_dma(dev, &src, 0, AIMC_SRAM_BASE, len, 0);
  CHECK(rc == AIMC_OK, "DMA host -> SRAM: %s (chip error %u)", aimc_strerror(rc),
        (unsigned)dev->device_error);
  rc = aimc_dma(dev, &dst, 0, AIMC_SRAM_BASE, len, 1);
  CHECK(rc == AIMC_OK, "DMA SRAM -> host: %s (chip error %u)", aimc_strerror(rc),
        (unsigned)dev->device_error);
  for (i = 0; i < len; ++i) {
    if (((const uint8_t*)src.cpu)[i] != ((const uint8_t*)dst.cpu)[i]) {
      if (mismatches++ == 0) first_bad = i;
    }
  }
  CHECK(mismatches == 0, "DMA loopback: %u of %u bytes differ (first at %u)", (unsigned)mismatches,
        (unsigned)len, (unsigned)first_bad);
  printf("  DMA loopback     %u bytes host -> SRAM -> host: %s\n", (unsigned)len,
         mismatches == 0 ? "ok" : "MISMATCH");
out:
  if (src.cpu) dev->hal.ops->dma_free(dev->hal.ctx, &src);
  if (dst.cpu) dev->hal.ops->dma_free(dev->hal.ctx, &dst);
}

static void test_misuse_answered(aimc_hal_t hal) {
  uint32_t code, irq;
  /* The ID register is read-only: the chip ignores the write and says so. */
  (void)hal.ops->write32(hal.ctx, AIMC_REG_ID, 0u); /* a bus error here is a valid answer too */
  code = reg(hal, AIMC_REG_ERROR_CODE);
  irq = reg(hal, AIMC_REG_IRQ_STATUS);
  CHECK(code == AIMC_ERR_RO_WRITE, "write to ID: ERROR_CODE %u, expected RO_WRITE (%u)",
        (unsigned)code, (unsigned)AIMC_ERR_RO_WRITE);
  CHECK((irq & AIMC_IRQ_ERROR) != 0, "write to ID: IRQ ERROR not raised (IRQ_STATUS 0x%X)",
        (unsigned)irq);
  CHECK(reg(hal, AIMC_REG_ID) == AIMC_CHIP_ID, "ID changed by a write");
  hal.ops->write32(hal.ctx, AIMC_REG_ERROR_CODE, 0xFFFFFFFFu);
  hal.ops->write32(hal.ctx, AIMC_REG_IRQ_STATUS, 0xFFFFFFFFu);
  printf("  misuse answered  write to read-only ID -> ERROR_CODE %u, IRQ ERROR: %s\n",
         (unsigned)code, code == AIMC_ERR_RO_WRITE && (irq & AIMC_IRQ_ERROR) ? "ok" : "WRONG");
}

static void test_clean(aimc_hal_t hal) {
  const uint32_t irq = reg(hal, AIMC_REG_IRQ_STATUS);
  const uint32_t err = reg(hal, AIMC_REG_ERROR_CODE);
  const uint32_t st = reg(hal, AIMC_REG_STATUS);
  CHECK(irq == 0, "IRQ_STATUS 0x%X pending after the self-test", (unsigned)irq);
  CHECK(err == AIMC_ERR_NONE, "ERROR_CODE %u after the self-test", (unsigned)err);
  CHECK(st == 0, "STATUS 0x%X after the self-test (busy or error bits)", (unsigned)st);
  printf("  clean            IRQ_STATUS 0x%X, ERROR_CODE %u, STATUS 0x%X\n", (unsigned)irq,
         (unsigned)err, (unsigned)st);
}

int aimc_fw_main(aimc_hal_t hal, int argc, char** argv) {
  aimc_dev_t dev;
  uint32_t id, clock_mhz;
  char id_text[5];
  int rc, i;
  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--") == 0) continue;
    fprintf(stderr, "hello: unknown argument '%s' (hello takes none)\n", argv[i]);
    return 2;
  }

  memset(&dev, 0, sizeof dev);
  rc = aimc_init(&dev, hal);
  if (rc != AIMC_OK) {
    fprintf(stderr, "hello: aimc_init: %s\n", aimc_strerror(rc));
    return 1;
  }
  id = reg(hal, AIMC_REG_ID);
  clock_mhz = reg(hal, AIMC_REG_CAPS_CLOCK_MHZ);
  for (i = 0; i < 4; ++i) {
    const char c = (char)(id >> (24 - 8 * i));
    id_text[i] = c >= 32 && c < 127 ? c : '?';
  }
  id_text[4] = '\0';
  printf("aimc chip\n");
  printf("  ID               0x%08X '%s'\n", (unsigned)id, id_text);
  printf("  version          %u.%u\n", (unsigned)(dev.version >> 16),
         (unsigned)(dev.version & 0xFFFFu));
  printf("  tiles            %u (%u x %u grid)\n", (unsigned)dev.caps.tiles,
         (unsigned)dev.caps.grid_rows, (unsigned)dev.caps.grid_cols);
  printf("  array            %u rows x %u columns per tile\n", (unsigned)dev.caps.array_rows,
         (unsigned)dev.caps.array_cols);
  printf("  converters       DAC %u bits, ADC %u bits; %u bits per cell\n",
         (unsigned)dev.caps.dac_bits, (unsigned)dev.caps.adc_bits, (unsigned)dev.caps.cell_bits);
  printf("  SRAM             %u bytes\n", (unsigned)dev.caps.sram_bytes);
  printf("  clock            %u MHz\n", (unsigned)clock_mhz);

  printf("self-test\n");
  test_scratch(hal);
  printf("  SCRATCH          %d patterns written and read back: %s\n", 6 + 32,
         g_failures == 0 ? "ok" : "FAILED");
  test_dma_loopback(&dev);
  test_misuse_answered(hal);
  test_clean(hal);

  aimc_release(&dev);
  if (g_failures) {
    printf("hello: self-test FAILED: %d of %d checks\n", g_failures, g_checks);
    return 1;
  }
  printf("hello: self-test passed (%d checks)\n", g_checks);
  return 0;
}
