/* isr: interrupt-driven inference on the VP's RV32 core (bare metal; `aimc fw run isr.rv32.elf`).
 *
 *   isr IMAGE [--vectors N]
 *
 * IMAGE is a deployment image written by `aimc compile -o IMAGE`. The firmware
 *   1. routes the chip's DMA_DONE interrupt to its own handler (aimc_rv_set_irq_handler), moves
 *      4 KiB through the (still empty) SRAM and back with two DMA transfers, and sleeps in wfi
 *      until the handler has seen each completion; then gives DMA_DONE back to the HAL;
 *   2. loads the image with the driver and runs N input vectors (default 16, deterministic
 *      pseudo-random DAC codes) through the synchronous driver call aimc_infer, as a reference;
 *   3. routes CQ_DONE to its handler, queues one command per vector in the command-queue ring,
 *      every entry asking for CQ_DONE, rings the doorbell once and sleeps in wfi until the handler
 *      has counted every completion. Each handler acknowledges its bit in IRQ_STATUS and counts;
 *      while the main loop sleeps the core is clock-gated (no cycle energy);
 *   4. checks that the DMA round trip kept every byte and that each vector's predicted class
 *      (argmax) is the reference's (the outputs themselves differ by the read noise of a new
 *      read), and prints the predictions, the interrupts handled and the simulated time
 *      spent asleep.
 * Exit code 0 when everything matched, 1 otherwise, 2 for bad arguments or files. The VP's
 * summary (and --report's cpu.sleep_ns) shows the time the core slept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aimc_driver.h"
#include "aimc_fw.h"
#include "aimc_hal_rv32.h"
#include "aimc_hw.h"
#include "aimc_regs.h"

static volatile uint32_t g_dma_done, g_cq_done, g_interrupts;

static volatile uint32_t* chip_reg(uint32_t offset) {
  return (volatile uint32_t*)(uintptr_t)(AIMC_RV_CHIP_BASE + offset);
}

/* Interrupt context: acknowledge the chip's bit (its line is a level), count, return. */
static void on_dma_done(uint32_t source, void* ctx) {
  (void)source;
  (void)ctx;
  *chip_reg(AIMC_REG_IRQ_STATUS) = AIMC_IRQ_DMA_DONE;
  ++g_dma_done;
  ++g_interrupts;
}

static void on_cq_done(uint32_t source, void* ctx) {
  (void)source;
  (void)ctx;
  *chip_reg(AIMC_REG_IRQ_STATUS) = AIMC_IRQ_CQ_DONE;
  ++g_cq_done;
  ++g_interrupts;
}

/* Sleeps until *counter reaches target: interrupts off while testing, so that a completion between
 * the test and the wfi still wakes it (wfi returns on a pending interrupt with mstatus.MIE clear;
 * the handler runs as soon as they are back on). Returns the simulated ns spent. */
static uint64_t sleep_until(volatile uint32_t* counter, uint32_t target) {
  const uint64_t t0 = aimc_rv_mtime_ns();
  uint32_t prev = aimc_rv_irq_disable();
  while (*counter < target) {
    aimc_rv_wfi();
    aimc_rv_irq_restore(prev);
    prev = aimc_rv_irq_disable();
  }
  aimc_rv_irq_restore(prev);
  return aimc_rv_mtime_ns() - t0;
}

static int read_file(const char* path, unsigned char** data, size_t* size) {
  FILE* f = fopen(path, "rb");
  long n;
  if (!f) return -1;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
      !(*data = (unsigned char*)malloc((size_t)n)) || fread(*data, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    return -1;
  }
  fclose(f);
  *size = (size_t)n;
  return 0;
}

static void start_dma(aimc_dev_t* dev, uint32_t host, uint32_t dev_addr, uint32_t len, int to_host) {
  aimc_hal_t hal = dev->hal;
  hal.ops->write32(hal.ctx, AIMC_REG_DMA_HOST_ADDR, host);
  hal.ops->write32(hal.ctx, AIMC_REG_DMA_DEV_ADDR, dev_addr);
  hal.ops->write32(hal.ctx, AIMC_REG_DMA_LEN, len);
  hal.ops->write32(hal.ctx, AIMC_REG_DMA_CTRL, to_host ? AIMC_DMA_CTRL_DIR_MASK : 0u);
  hal.ops->write32(hal.ctx, AIMC_REG_DMA_START, 1u);
}

int aimc_fw_main(aimc_hal_t hal, int argc, char** argv) {
  aimc_dev_t dev;
  unsigned char* image = NULL;
  size_t image_size = 0;
  uint32_t n = 16, i, k, x = 0x12345678u, mismatches = 0, bad_status = 0;
  uint8_t* codes;
  int32_t *ref, *out;
  aimc_dma_buf_t in_buf, back_buf, out_buf;
  (void)back_buf;
  aimc_cmd_t* ring;
  uint64_t slept_dma, slept_cq;
  int rc, a;
  const char* image_path = NULL;
  for (a = 1; a < argc; ++a) {
    if (strcmp(argv[a], "--vectors") == 0 && a + 1 < argc) {
      n = (uint32_t)strtoul(argv[++a], NULL, 10);
    } else if (!image_path && argv[a][0] != '-') {
      image_path = argv[a];
    } else {
      fprintf(stderr, "isr: bad argument '%s'\nusage: isr IMAGE [--vectors N]\n", argv[a]);
      return 2;
    }
  }
  if (!image_path || n == 0 || n > 1024) {
    fprintf(stderr, "usage: isr IMAGE [--vectors N]   (N in 1..1024)\n");
    return 2;
  }
  if (read_file(image_path, &image, &image_size) != 0) {
    fprintf(stderr, "isr: cannot read %s\n", image_path);
    return 2;
  }
  memset(&dev, 0, sizeof dev);
  if ((rc = aimc_init(&dev, hal)) != AIMC_OK) {
    fprintf(stderr, "isr: aimc_init: %s\n", aimc_strerror(rc));
    return 1;
  }
  memset(&in_buf, 0, sizeof in_buf);
  memset(&back_buf, 0, sizeof back_buf);
  memset(&out_buf, 0, sizeof out_buf);

  /* 1. DMA: a block of pseudo-random bytes into the (still empty) SRAM and back, each completion
   *    seen by on_dma_done, the core asleep meanwhile; then DMA_DONE goes back to wait_irq. */
  if (hal.ops->dma_alloc(hal.ctx, 4096, &in_buf) != AIMC_HAL_OK ||
      hal.ops->dma_alloc(hal.ctx, 4096, &back_buf) != AIMC_HAL_OK) {
    fprintf(stderr, "isr: no DMA memory\n");
    return 1;
  }
  for (i = 0; i < in_buf.size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    ((uint8_t*)in_buf.cpu)[i] = (uint8_t)(x >> 24);
  }
  hal.ops->dma_sync(hal.ctx, &in_buf, 0, in_buf.size, AIMC_DMA_TO_DEVICE);
  if (aimc_rv_set_irq_handler(AIMC_RV_IRQ_CHIP_FIRST + AIMC_IRQ_STATUS_DMA_DONE_SHIFT, on_dma_done, NULL) != 0) {
    fprintf(stderr, "isr: cannot route DMA_DONE\n");
    return 1;
  }
  start_dma(&dev, in_buf.bus_addr, AIMC_SRAM_BASE, (uint32_t)in_buf.size, 0);
  slept_dma = sleep_until(&g_dma_done, 1);
  start_dma(&dev, back_buf.bus_addr, AIMC_SRAM_BASE, (uint32_t)back_buf.size, 1);
  slept_dma += sleep_until(&g_dma_done, 2);
  aimc_rv_set_irq_handler(AIMC_RV_IRQ_CHIP_FIRST + AIMC_IRQ_STATUS_DMA_DONE_SHIFT, NULL, NULL);
  hal.ops->dma_sync(hal.ctx, &back_buf, 0, back_buf.size, AIMC_DMA_FROM_DEVICE);
  if (memcmp(in_buf.cpu, back_buf.cpu, in_buf.size) != 0) {
    printf("isr: DMA round trip: MISMATCH\n");
    ++mismatches;
  }
  hal.ops->dma_free(hal.ctx, &in_buf);
  hal.ops->dma_free(hal.ctx, &back_buf);

  /* 2. The image and the reference: the synchronous driver call (it waits with wait_irq). */
  if ((rc = aimc_load_image(&dev, image, image_size)) != AIMC_OK) {
    fprintf(stderr, "isr: aimc_load_image: %s (chip error %u)\n", aimc_strerror(rc),
            (unsigned)dev.device_error);
    return 1;
  }
  free(image);
  codes = (uint8_t*)malloc((size_t)n * dev.in_features);
  ref = (int32_t*)malloc((size_t)n * dev.out_features * sizeof(int32_t));
  if (!codes || !ref) return 1;
  for (i = 0; i < n * dev.in_features; ++i) { /* xorshift: deterministic inputs */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    codes[i] = (uint8_t)(x >> 24);
  }
  if ((rc = aimc_infer(&dev, codes, n, ref)) != AIMC_OK) {
    fprintf(stderr, "isr: aimc_infer: %s\n", aimc_strerror(rc));
    return 1;
  }

  /* 3. From here on CQ_DONE goes to on_cq_done. */
  if (aimc_rv_set_irq_handler(AIMC_RV_IRQ_CHIP_FIRST + AIMC_IRQ_STATUS_CQ_DONE_SHIFT, on_cq_done, NULL) != 0) {
    fprintf(stderr, "isr: cannot route CQ_DONE\n");
    return 1;
  }
  memset(&in_buf, 0, sizeof in_buf);
  if (hal.ops->dma_alloc(hal.ctx, (size_t)n * dev.in_features, &in_buf) != AIMC_HAL_OK ||
      hal.ops->dma_alloc(hal.ctx, (size_t)n * dev.out_features * 4u, &out_buf) != AIMC_HAL_OK ||
      aimc_cq_init(&dev, n + 1) != AIMC_OK) {
    fprintf(stderr, "isr: no DMA memory\n");
    return 1;
  }
  memcpy(in_buf.cpu, codes, (size_t)n * dev.in_features);
  hal.ops->dma_sync(hal.ctx, &in_buf, 0, in_buf.size, AIMC_DMA_TO_DEVICE);

  /* 3b. One queued command per vector, each raising CQ_DONE; one doorbell; sleep. */
  ring = (aimc_cmd_t*)dev.cq_ring.cpu;
  for (i = 0; i < n; ++i) {
    aimc_cmd_t* c = &ring[i];
    memset(c, 0, sizeof *c);
    c->opcode = AIMC_CMD_INFER;
    c->flags = AIMC_CMD_FLAG_IRQ;
    c->in_host_addr = in_buf.bus_addr + i * dev.in_features;
    c->out_host_addr = out_buf.bus_addr + i * dev.out_features * 4u;
    c->batch = 1;
    c->status = 0xFFFFFFFFu;
  }
  hal.ops->dma_sync(hal.ctx, &dev.cq_ring, 0, dev.cq_ring.size, AIMC_DMA_TO_DEVICE);
  hal.ops->write32(hal.ctx, AIMC_REG_CQ_TAIL, n); /* the doorbell */
  slept_cq = sleep_until(&g_cq_done, n);
  hal.ops->dma_sync(hal.ctx, &dev.cq_ring, 0, dev.cq_ring.size, AIMC_DMA_FROM_DEVICE);
  hal.ops->dma_sync(hal.ctx, &out_buf, 0, out_buf.size, AIMC_DMA_FROM_DEVICE);

  /* 4. Results. */
  out = (int32_t*)out_buf.cpu;
  /* Every inference reads the cells anew (read noise, a new draw each time), so the outputs differ
   * from the reference's by the noise; the predicted classes must agree. */
  printf("predictions\n ");
  for (i = 0; i < n; ++i) {
    uint32_t best = 0, best_ref = 0;
    const int32_t* o = out + (size_t)i * dev.out_features;
    const int32_t* r = ref + (size_t)i * dev.out_features;
    if (ring[i].status != AIMC_ERR_NONE) ++bad_status;
    for (k = 1; k < dev.out_features; ++k) {
      if (o[k] > o[best]) best = k;
      if (r[k] > r[best_ref]) best_ref = k;
    }
    printf(" %u", (unsigned)best);
    if (best != best_ref) ++mismatches;
  }
  printf("\n");
  printf("vectors          %u, %u queued commands with status other than 0\n", (unsigned)n, (unsigned)bad_status);
  printf("interrupts       %u handled (DMA_DONE %u, CQ_DONE %u)\n", (unsigned)g_interrupts,
         (unsigned)g_dma_done, (unsigned)g_cq_done);
  printf("asleep in wfi    %llu ns waiting for DMA, %llu ns waiting for the queue\n",
         (unsigned long long)slept_dma, (unsigned long long)slept_cq);
  printf("isr: %s\n", mismatches == 0 && bad_status == 0
                          ? "interrupt-driven predictions agree with the synchronous driver's"
                          : "MISMATCH against the synchronous driver");
  return mismatches == 0 && bad_status == 0 ? 0 : 1;
}
