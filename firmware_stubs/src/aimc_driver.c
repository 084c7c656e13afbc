/* aimc firmware driver: see aimc_driver.h. Only the C standard library and the HAL are used. */
#include "aimc_driver.h"

#include <math.h>
#include <string.h>

#include "aimc_hw.h"
#include "aimc_image.h"
#include "aimc_regs.h"

#define AIMC_DEFAULT_TIMEOUT_NS 60000000000ull /* 60 s of chip time */

const char* aimc_strerror(int status) {
  switch (status) {
    case AIMC_OK: return "ok";
    case AIMC_E_HAL: return "HAL access failed";
    case AIMC_E_NODEV: return "no aimc chip answered (wrong ID or version)";
    case AIMC_E_IMAGE: return "deployment image is malformed or does not fit this chip";
    case AIMC_E_TIMEOUT: return "timed out waiting for the chip";
    case AIMC_E_DEVICE: return "the chip reported an error";
    case AIMC_E_ARG: return "bad argument";
    case AIMC_E_STATE: return "call out of order";
    default: return "unknown error";
  }
}

static int rd(aimc_dev_t* dev, uint32_t off, uint32_t* v) {
  return dev->hal.ops->read32(dev->hal.ctx, off, v) == AIMC_HAL_OK ? AIMC_OK : AIMC_E_HAL;
}

static int wr(aimc_dev_t* dev, uint32_t off, uint32_t v) {
  return dev->hal.ops->write32(dev->hal.ctx, off, v) == AIMC_HAL_OK ? AIMC_OK : AIMC_E_HAL;
}

#define TRY(expr)            \
  do {                       \
    int rc_ = (expr);        \
    if (rc_ != AIMC_OK) return rc_; \
  } while (0)

static uint32_t field(uint32_t v, uint32_t mask, uint32_t shift) { return (v & mask) >> shift; }
/* A scale the driver divides or multiplies by: > 0 and not infinite (NaN fails both). */
static int finite_positive(float v) { return v > 0.0f && v <= 3.402823466e38f; }

/* DMA coherence through the HAL (a no-op where host memory is shared with the chip). */
static int sync(aimc_dev_t* dev, aimc_dma_buf_t* buf, size_t off, size_t len, int dir) {
  if (!dev->hal.ops->dma_sync) return AIMC_OK;
  return dev->hal.ops->dma_sync(dev->hal.ctx, buf, off, len, dir) == AIMC_HAL_OK ? AIMC_OK
                                                                                : AIMC_E_HAL;
}

int aimc_init(aimc_dev_t* dev, aimc_hal_t hal) {
  uint32_t id = 0, v = 0;
  if (!dev || !hal.ops) return AIMC_E_ARG;
  memset(dev, 0, sizeof *dev);
  dev->hal = hal;
  dev->timeout_ns = AIMC_DEFAULT_TIMEOUT_NS;
  TRY(rd(dev, AIMC_REG_ID, &id));
  if (id != AIMC_CHIP_ID) return AIMC_E_NODEV;
  TRY(rd(dev, AIMC_REG_VERSION, &dev->version));
  if ((dev->version >> 16) != 1u) return AIMC_E_NODEV;
  TRY(rd(dev, AIMC_REG_CAPS_GRID, &v));
  dev->caps.grid_rows = field(v, AIMC_CAPS_GRID_ROWS_MASK, AIMC_CAPS_GRID_ROWS_SHIFT);
  dev->caps.grid_cols = field(v, AIMC_CAPS_GRID_COLS_MASK, AIMC_CAPS_GRID_COLS_SHIFT);
  dev->caps.tiles = field(v, AIMC_CAPS_GRID_TILES_MASK, AIMC_CAPS_GRID_TILES_SHIFT);
  TRY(rd(dev, AIMC_REG_CAPS_ARRAY, &v));
  dev->caps.array_rows = field(v, AIMC_CAPS_ARRAY_ROWS_MASK, AIMC_CAPS_ARRAY_ROWS_SHIFT);
  dev->caps.array_cols = field(v, AIMC_CAPS_ARRAY_COLS_MASK, AIMC_CAPS_ARRAY_COLS_SHIFT);
  TRY(rd(dev, AIMC_REG_CAPS_BITS, &v));
  dev->caps.dac_bits = field(v, AIMC_CAPS_BITS_DAC_MASK, AIMC_CAPS_BITS_DAC_SHIFT);
  dev->caps.adc_bits = field(v, AIMC_CAPS_BITS_ADC_MASK, AIMC_CAPS_BITS_ADC_SHIFT);
  dev->caps.cell_bits = field(v, AIMC_CAPS_BITS_CELL_MASK, AIMC_CAPS_BITS_CELL_SHIFT);
  TRY(rd(dev, AIMC_REG_CAPS_SRAM_BYTES, &dev->caps.sram_bytes));
  if ((dev->version & 0xFFFFu) >= 1u) {
    TRY(rd(dev, AIMC_REG_CAPS_DEVICE, &v));
    dev->caps.device_type = field(v, AIMC_CAPS_DEVICE_TYPE_MASK, AIMC_CAPS_DEVICE_TYPE_SHIFT);
    dev->caps.balanced_pairs = field(v, AIMC_CAPS_DEVICE_BALANCED_MASK, AIMC_CAPS_DEVICE_BALANCED_SHIFT);
  }
  /* What the driver relies on: engines idle, no error, no stale interrupt, the tiles powered
   * (SOFT_RESET also returns to ACTIVE: a firmware before may have left STANDBY), its interrupt
   * sources enabled. Calibration state (GAIN, TRIM, CAL_REF) is the deployment's and stays:
   * CTRL.FULL_RESET resets it too. */
  TRY(wr(dev, AIMC_REG_CTRL, AIMC_CTRL_SOFT_RESET_MASK));
  TRY(wr(dev, AIMC_REG_IRQ_STATUS, 0xFFFFFFFFu));
  TRY(wr(dev, AIMC_REG_IRQ_ENABLE, AIMC_IRQ_INFER_DONE | AIMC_IRQ_DMA_DONE | AIMC_IRQ_PROG_DONE |
                                       AIMC_IRQ_ERROR | AIMC_IRQ_CQ_DONE));
  return AIMC_OK;
}

static void free_buf(aimc_dev_t* dev, aimc_dma_buf_t* b) {
  if (b->cpu && dev->hal.ops && dev->hal.ops->dma_free) dev->hal.ops->dma_free(dev->hal.ctx, b);
  memset(b, 0, sizeof *b);
}

static int ensure_buf(aimc_dev_t* dev, aimc_dma_buf_t* b, size_t size) {
  if (b->cpu && b->size >= size) return AIMC_OK;
  free_buf(dev, b);
  if (dev->hal.ops->dma_alloc(dev->hal.ctx, size, b) != AIMC_HAL_OK) {
    memset(b, 0, sizeof *b);
    return AIMC_E_HAL;
  }
  return AIMC_OK;
}

void aimc_release(aimc_dev_t* dev) {
  if (!dev) return;
  free_buf(dev, &dev->in_buf);
  free_buf(dev, &dev->out_buf);
  free_buf(dev, &dev->cq_ring);
  free_buf(dev, &dev->cq_in);
  free_buf(dev, &dev->cq_out);
  dev->cq_entries = 0;
  dev->loaded = 0;
}

/* The chip's recorded error into dev->device_error and device_error_addr, then cleared on the
 * chip with its interrupt; returns AIMC_E_DEVICE. */
static int take_device_error(aimc_dev_t* dev) {
  TRY(rd(dev, AIMC_REG_ERROR_CODE, &dev->device_error));
  TRY(rd(dev, AIMC_REG_ERROR_ADDR, &dev->device_error_addr));
  TRY(wr(dev, AIMC_REG_ERROR_CODE, 0xFFFFFFFFu));
  TRY(wr(dev, AIMC_REG_IRQ_STATUS, AIMC_IRQ_ERROR));
  return AIMC_E_DEVICE;
}

/* A call that talks to the chip starts with no device error: device_error describes its outcome. */
static void clear_device_error(aimc_dev_t* dev) {
  dev->device_error = AIMC_ERR_NONE;
  dev->device_error_addr = 0;
}

int aimc_wait_done(aimc_dev_t* dev, uint32_t irq_bit) {
  if (!dev) return AIMC_E_ARG;
  clear_device_error(dev);
  for (;;) {
    uint32_t pending = 0, others;
    int rc = dev->hal.ops->wait_irq(dev->hal.ctx, dev->timeout_ns);
    if (rc == AIMC_HAL_TIMEOUT) return AIMC_E_TIMEOUT;
    if (rc != AIMC_HAL_OK) return AIMC_E_HAL;
    TRY(rd(dev, AIMC_REG_IRQ_STATUS, &pending));
    /* Other sources that fired meanwhile (PROG_YIELD, ADC_CLIP, TEMP_ALARM, ...) are acknowledged
     * on the chip with the awaited one, in the same write, so that the line can fall, and kept
     * for the firmware (dev->irq_pending, aimc_take_irqs). */
    others = pending & ~(irq_bit | (uint32_t)AIMC_IRQ_ERROR);
    dev->irq_pending |= others;
    if (pending & AIMC_IRQ_ERROR) {
      TRY(rd(dev, AIMC_REG_ERROR_CODE, &dev->device_error));
      TRY(rd(dev, AIMC_REG_ERROR_ADDR, &dev->device_error_addr));
      TRY(wr(dev, AIMC_REG_ERROR_CODE, 0xFFFFFFFFu));
      TRY(wr(dev, AIMC_REG_IRQ_STATUS, AIMC_IRQ_ERROR | others));
      return AIMC_E_DEVICE;
    }
    if (pending & irq_bit) {
      TRY(wr(dev, AIMC_REG_IRQ_STATUS, irq_bit | others));
      return AIMC_OK;
    }
    if (others) TRY(wr(dev, AIMC_REG_IRQ_STATUS, others));
  }
}

uint32_t aimc_take_irqs(aimc_dev_t* dev) {
  uint32_t bits;
  if (!dev) return 0;
  bits = dev->irq_pending;
  dev->irq_pending = 0;
  return bits;
}

int aimc_dma(aimc_dev_t* dev, aimc_dma_buf_t* buf, size_t buf_offset, uint32_t dev_addr,
             uint32_t len, int to_host) {
  if (!dev || !buf || !buf->cpu || buf_offset + len > buf->size) return AIMC_E_ARG;
  if (!to_host) TRY(sync(dev, buf, buf_offset, len, AIMC_DMA_TO_DEVICE));
  TRY(wr(dev, AIMC_REG_DMA_HOST_ADDR, buf->bus_addr + (uint32_t)buf_offset));
  TRY(wr(dev, AIMC_REG_DMA_DEV_ADDR, dev_addr));
  TRY(wr(dev, AIMC_REG_DMA_LEN, len));
  TRY(wr(dev, AIMC_REG_DMA_CTRL, to_host ? AIMC_DMA_CTRL_DIR_MASK : 0u));
  TRY(wr(dev, AIMC_REG_DMA_START, 1u));
  TRY(aimc_wait_done(dev, AIMC_IRQ_DMA_DONE));
  if (to_host) TRY(sync(dev, buf, buf_offset, len, AIMC_DMA_FROM_DEVICE));
  dev->dma_bytes += len;
  return AIMC_OK;
}

/* Copies a section payload into a DMA buffer and sends it to the chip. */
static int send_section(aimc_dev_t* dev, const uint8_t* payload, uint64_t size, uint32_t dest) {
  aimc_dma_buf_t buf;
  int rc;
  memset(&buf, 0, sizeof buf);
  if (size == 0 || size > 0xFFFFFFFFull) return AIMC_E_IMAGE;
  if (dev->hal.ops->dma_alloc(dev->hal.ctx, (size_t)size, &buf) != AIMC_HAL_OK) return AIMC_E_HAL;
  memcpy(buf.cpu, payload, (size_t)size);
  rc = aimc_dma(dev, &buf, 0, dest, (uint32_t)size, 0);
  dev->hal.ops->dma_free(dev->hal.ctx, &buf);
  return rc;
}

/* Checks that `tile` holds a block of the size the weight section describes. */
static int check_attached(aimc_dev_t* dev, uint32_t tile, const uint8_t* payload) {
  aimc_weights_hdr_t wh;
  uint32_t st = 0, rows = 0, cols = 0;
  const uint32_t base = AIMC_TILE_REGS_BASE + tile * AIMC_TILE_REGS_STRIDE;
  memcpy(&wh, payload, sizeof wh);
  TRY(rd(dev, base + AIMC_TREG_STATUS, &st));
  TRY(rd(dev, base + AIMC_TREG_ROWS_USED, &rows));
  TRY(rd(dev, base + AIMC_TREG_COLS_USED, &cols));
  if (!(st & AIMC_TILE_STATUS_PROGRAMMED_MASK) || rows != wh.rows || cols != wh.cols)
    return AIMC_E_STATE;
  return AIMC_OK;
}

/* Sends a WEIGHTS section and programs its tile; adds the PROGRAM statistics. */
static int program_section(aimc_dev_t* dev, const aimc_image_section_t* sec, const uint8_t* payload,
                           uint64_t* cells_sum, uint64_t* pulses_sum, uint64_t* unconverged_sum) {
  uint32_t st = 0;
  TRY(send_section(dev, payload, sec->size, sec->dest_addr));
  TRY(wr(dev, AIMC_REG_PROG_TILE, sec->tile));
  TRY(wr(dev, AIMC_REG_PROG_CMD, AIMC_PROG_PROGRAM));
  TRY(aimc_wait_done(dev, AIMC_IRQ_PROG_DONE));
  TRY(rd(dev, AIMC_REG_PROG_STATUS, &st));
  if (st != AIMC_STATE_DONE) return AIMC_E_DEVICE;
  if ((dev->version & 0xFFFFu) >= 1u) {
    uint32_t cells = 0, pulses = 0, unconverged = 0;
    TRY(rd(dev, AIMC_REG_PROG_CELLS, &cells));
    TRY(rd(dev, AIMC_REG_PROG_PULSES, &pulses));
    TRY(rd(dev, AIMC_REG_PROG_UNCONVERGED, &unconverged));
    *cells_sum += cells;
    *pulses_sum += pulses;
    *unconverged_sum += unconverged;
  }
  return AIMC_OK;
}

/* Programs the tiles of one segment from the kept image (weight reload). */
static int load_segment(aimc_dev_t* dev, uint32_t segment) {
  aimc_image_header_t hdr;
  uint32_t i;
  memcpy(&hdr, dev->image, sizeof hdr);
  for (i = 0; i < hdr.section_count; ++i) {
    aimc_image_section_t sec;
    memcpy(&sec, dev->image + sizeof hdr + (size_t)i * sizeof sec, sizeof sec);
    if (sec.type != AIMC_SECTION_WEIGHTS || sec.segment != segment) continue;
    TRY(program_section(dev, &sec, dev->image + sec.offset, &dev->reload_cells, &dev->reload_pulses,
                        &dev->reload_unconverged));
  }
  dev->resident_segment = (int)segment;
  dev->reloads++;
  return AIMC_OK;
}

/* ---- The deployment image's checks (aimc_image_check): no HAL, no allocation ---------------- */

static int ranges_overlap(uint64_t a_off, uint64_t a_size, uint64_t b_off, uint64_t b_size) {
  return a_size != 0 && b_size != 0 && a_off < b_off + b_size && b_off < a_off + a_size;
}

/* The program header fields every segment repeats (the network's input and output, its scales,
 * batch and the chip parameters it was quantized for): equal, or the driver, which keeps segment
 * 0's, would use the wrong ones for the others. */
static int same_network(const aimc_program_hdr_t* a, const aimc_program_hdr_t* b) {
  return a->in_features == b->in_features && a->out_features == b->out_features &&
         a->in_addr == b->in_addr && a->out_addr == b->out_addr && a->in_scale == b->in_scale &&
         a->in_zero == b->in_zero && a->out_scale == b->out_scale && a->max_batch == b->max_batch &&
         a->dac_bits == b->dac_bits && a->adc_bits == b->adc_bits &&
         a->bits_per_cell == b->bits_per_cell && a->g_min_over_g_max == b->g_min_over_g_max;
}

/* One PROGRAM section's header and size: what the driver itself uses of it. */
static int check_program_header(const aimc_image_section_t* sec, const aimc_program_hdr_t* ph,
                                uint64_t sram_bytes) {
  uint64_t need;
  if (ph->magic != AIMC_PROGRAM_MAGIC || ph->layer_count == 0 || ph->in_features == 0 ||
      ph->out_features == 0 || ph->max_batch == 0 || ph->dac_bits == 0 || ph->dac_bits > 8 ||
      !finite_positive(ph->in_scale) || !finite_positive(ph->out_scale))
    return AIMC_E_IMAGE;
  need = sizeof *ph + (uint64_t)ph->layer_count * sizeof(aimc_layer_t) +
         (uint64_t)ph->slice_count * sizeof(aimc_slice_t) + (uint64_t)ph->bias_count * sizeof(float);
  if (need != sec->size) return AIMC_E_IMAGE;
  /* A batch of inputs and of outputs must fit the chip's SRAM: a max_batch beyond it is a bad
   * image, not a host buffer the HAL cannot give. */
  if ((uint64_t)ph->max_batch * ph->in_features > sram_bytes ||
      (uint64_t)ph->max_batch * ph->out_features * 4u > sram_bytes)
    return AIMC_E_IMAGE;
  return AIMC_OK;
}

int aimc_image_check(const void* image, size_t size, uint32_t tiles, uint64_t sram_bytes) {
  const uint8_t* bytes = (const uint8_t*)image;
  aimc_image_header_t hdr;
  aimc_program_hdr_t first;
  uint64_t table_end, programs = 0; /* bit s: segment s has its PROGRAM */
  uint32_t i, j, metas = 0, segments = 0;
  if (!image) return AIMC_E_ARG;
  memset(&first, 0, sizeof first);
  if (size < sizeof hdr) return AIMC_E_IMAGE;
  memcpy(&hdr, bytes, sizeof hdr);
  table_end = sizeof hdr + (uint64_t)hdr.section_count * sizeof(aimc_image_section_t);
  if (memcmp(hdr.magic, AIMC_IMAGE_MAGIC, 8) != 0 || hdr.version != AIMC_IMAGE_VERSION ||
      hdr.total_bytes != size || hdr.section_count == 0 || table_end > size)
    return AIMC_E_IMAGE;

  /* Each section on its own: where its payload is, its type's fields and header. */
  for (i = 0; i < hdr.section_count; ++i) {
    aimc_image_section_t sec;
    memcpy(&sec, bytes + sizeof hdr + (size_t)i * sizeof sec, sizeof sec);
    if (sec.offset % 8u != 0 || sec.offset < table_end || sec.offset > size ||
        sec.size > size - sec.offset)
      return AIMC_E_IMAGE;
    for (j = 0; j < i; ++j) {
      aimc_image_section_t other;
      memcpy(&other, bytes + sizeof hdr + (size_t)j * sizeof other, sizeof other);
      if (ranges_overlap(sec.offset, sec.size, other.offset, other.size)) return AIMC_E_IMAGE;
      /* One WEIGHTS section per tile and segment. */
      if (sec.type == AIMC_SECTION_WEIGHTS && other.type == AIMC_SECTION_WEIGHTS &&
          sec.tile == other.tile && sec.segment == other.segment)
        return AIMC_E_IMAGE;
    }
    if (sec.type == AIMC_SECTION_META) {
      if (sec.tile != AIMC_TILE_NONE || sec.segment != 0 || ++metas > 1) return AIMC_E_IMAGE;
    } else if (sec.type == AIMC_SECTION_WEIGHTS) {
      aimc_weights_hdr_t wh;
      uint64_t levels;
      if (sec.tile == AIMC_TILE_NONE || sec.tile >= tiles || sec.segment >= AIMC_MAX_SEGMENTS ||
          sec.size < sizeof wh)
        return AIMC_E_IMAGE;
      memcpy(&wh, bytes + sec.offset, sizeof wh);
      levels = (uint64_t)wh.rows * wh.cols; /* < 2^64, but 2 * levels may wrap: divide instead */
      if (wh.bits_per_cell < 1 || wh.bits_per_cell > 15 || levels == 0 ||
          (sec.size - sizeof wh) % 2u != 0 || (sec.size - sizeof wh) / 2u != levels ||
          sec.size > 0xFFFFFFFFull)
        return AIMC_E_IMAGE;
    } else if (sec.type == AIMC_SECTION_PROGRAM) {
      aimc_program_hdr_t ph;
      if (sec.tile != AIMC_TILE_NONE || sec.segment >= AIMC_MAX_SEGMENTS ||
          (programs >> sec.segment & 1u) || sec.size < sizeof ph || sec.size > 0xFFFFFFFFull)
        return AIMC_E_IMAGE;
      memcpy(&ph, bytes + sec.offset, sizeof ph);
      if (check_program_header(&sec, &ph, sram_bytes) != AIMC_OK) return AIMC_E_IMAGE;
      programs |= (uint64_t)1u << sec.segment;
      if (sec.segment == 0) first = ph;
    } else {
      return AIMC_E_IMAGE;
    }
  }
  /* The segments: PROGRAMs numbered 0 .. n-1 without gaps, every WEIGHTS section in one of them,
   * and every program describing the same network as segment 0's. */
  while (segments < AIMC_MAX_SEGMENTS && (programs >> segments & 1u)) ++segments;
  if (segments == 0 || (segments < AIMC_MAX_SEGMENTS && (programs >> segments) != 0))
    return AIMC_E_IMAGE;
  for (i = 0; i < hdr.section_count; ++i) {
    aimc_image_section_t sec;
    aimc_program_hdr_t ph;
    memcpy(&sec, bytes + sizeof hdr + (size_t)i * sizeof sec, sizeof sec);
    if (sec.type == AIMC_SECTION_WEIGHTS && sec.segment >= segments) return AIMC_E_IMAGE;
    if (sec.type != AIMC_SECTION_PROGRAM) continue;
    memcpy(&ph, bytes + sec.offset, sizeof ph);
    if (!same_network(&ph, &first)) return AIMC_E_IMAGE;
  }
  return AIMC_OK;
}

/* ---- Loading ----------------------------------------------------------------------------- */

/* Loads an image aimc_image_check accepted for this chip. */
static int load_image(aimc_dev_t* dev, const void* image, size_t size, int program_weights) {
  const uint8_t* bytes = (const uint8_t*)image;
  aimc_image_header_t hdr;
  uint32_t i;
  if (!dev || !image) return AIMC_E_ARG;
  dev->loaded = 0;
  dev->prog_cells = dev->prog_pulses = dev->prog_unconverged = 0;
  dev->reloads = dev->reload_cells = dev->reload_pulses = dev->reload_unconverged = 0;
  dev->segments = 0;
  dev->resident_segment = -1;
  dev->image = bytes;
  dev->image_size = size;
  TRY(aimc_image_check(image, size, dev->caps.tiles, dev->caps.sram_bytes));
  memcpy(&hdr, bytes, sizeof hdr);

  for (i = 0; i < hdr.section_count; ++i) {
    aimc_image_section_t sec;
    const uint8_t* payload;
    memcpy(&sec, bytes + sizeof hdr + (size_t)i * sizeof sec, sizeof sec);
    payload = bytes + sec.offset;
    if (sec.type == AIMC_SECTION_WEIGHTS) {
      if (sec.segment != 0) continue; /* loaded when inference reaches its segment */
      if (!program_weights) {
        TRY(check_attached(dev, sec.tile, payload));
        continue;
      }
      TRY(program_section(dev, &sec, payload, &dev->prog_cells, &dev->prog_pulses, &dev->prog_unconverged));
    } else if (sec.type == AIMC_SECTION_PROGRAM) {
      aimc_program_hdr_t ph;
      memcpy(&ph, payload, sizeof ph);
      TRY(send_section(dev, payload, sec.size, sec.dest_addr));
      dev->seg_prog_addr[sec.segment] = sec.dest_addr;
      if (sec.segment + 1 > dev->segments) dev->segments = sec.segment + 1;
      if (sec.segment != 0) continue;
      TRY(wr(dev, AIMC_REG_SEQ_PROG_ADDR, sec.dest_addr));
      dev->in_features = ph.in_features;
      dev->out_features = ph.out_features;
      dev->max_batch = ph.max_batch;
      dev->in_addr = ph.in_addr;
      dev->out_addr = ph.out_addr;
      dev->prog_addr = sec.dest_addr;
      dev->in_scale = ph.in_scale;
      dev->out_scale = ph.out_scale;
      dev->dac_bits = ph.dac_bits;
      dev->in_zero = ph.in_zero;
    }
  }
  dev->resident_segment = 0;
  TRY(ensure_buf(dev, &dev->in_buf, (size_t)dev->max_batch * dev->in_features));
  TRY(ensure_buf(dev, &dev->out_buf, (size_t)dev->max_batch * dev->out_features * 4u));
  dev->loaded = 1;
  return AIMC_OK;
}

int aimc_load_image(aimc_dev_t* dev, const void* image, size_t size) {
  return load_image(dev, image, size, 1);
}

int aimc_attach_image(aimc_dev_t* dev, const void* image, size_t size) {
  return load_image(dev, image, size, 0);
}

static uint32_t tile_reg(uint32_t tile, uint32_t off) {
  return AIMC_TILE_REGS_BASE + tile * AIMC_TILE_REGS_STRIDE + off;
}

/* Runs a programmed tile's calibration read; *programmed = 0 (and no read) for an empty tile. */
static int calibration_read(aimc_dev_t* dev, uint32_t tile, int* programmed, uint32_t* cal_na) {
  uint32_t st = 0;
  TRY(rd(dev, tile_reg(tile, AIMC_TREG_STATUS), &st));
  *programmed = (st & AIMC_TILE_STATUS_PROGRAMMED_MASK) != 0;
  if (!*programmed) return AIMC_OK;
  TRY(wr(dev, tile_reg(tile, AIMC_TREG_CAL), 1u));
  TRY(rd(dev, AIMC_REG_ERROR_CODE, &st));
  if (st != AIMC_ERR_NONE) return take_device_error(dev);
  return rd(dev, tile_reg(tile, AIMC_TREG_CAL_NA), cal_na);
}

int aimc_drift_reference(aimc_dev_t* dev) {
  uint32_t t;
  if (!dev) return AIMC_E_ARG;
  clear_device_error(dev);
  if ((dev->version & 0xFFFFu) < 1u) return AIMC_E_STATE;
  for (t = 0; t < dev->caps.tiles; ++t) {
    int programmed = 0;
    uint32_t cal = 0;
    TRY(calibration_read(dev, t, &programmed, &cal));
    if (!programmed) continue;
    TRY(wr(dev, tile_reg(t, AIMC_TREG_CAL_REF), cal));
    TRY(wr(dev, tile_reg(t, AIMC_TREG_GAIN), 0x10000u));
  }
  return AIMC_OK;
}

int aimc_drift_compensate(aimc_dev_t* dev, uint32_t* tiles_adjusted) {
  uint32_t t, adjusted = 0;
  if (!dev) return AIMC_E_ARG;
  clear_device_error(dev);
  if ((dev->version & 0xFFFFu) < 1u) return AIMC_E_STATE;
  for (t = 0; t < dev->caps.tiles; ++t) {
    int programmed = 0;
    uint32_t cal = 0, ref = 0;
    uint64_t gain;
    TRY(rd(dev, tile_reg(t, AIMC_TREG_CAL_REF), &ref));
    if (ref == 0) continue;
    TRY(calibration_read(dev, t, &programmed, &cal));
    if (!programmed || cal == 0) continue;
    /* Q16.16, rounded; capped at the register's range. */
    gain = (((uint64_t)ref << 16) + cal / 2u) / cal;
    if (gain > 0xFFFFFFFFull) gain = 0xFFFFFFFFull;
    TRY(wr(dev, tile_reg(t, AIMC_TREG_GAIN), (uint32_t)gain));
    ++adjusted;
  }
  if (tiles_adjusted) *tiles_adjusted = adjusted;
  return AIMC_OK;
}

int aimc_read_temperature(aimc_dev_t* dev, int32_t* millicelsius) {
  uint32_t v = 0;
  if (!dev || !millicelsius) return AIMC_E_ARG;
  if ((dev->version & 0xFFFFu) < 1u) return AIMC_E_STATE;
  TRY(rd(dev, AIMC_REG_TEMP_MC, &v));
  *millicelsius = (int32_t)v;
  return AIMC_OK;
}

int aimc_quantize_inputs(const aimc_dev_t* dev, const float* x, size_t count, uint8_t* codes) {
  size_t i;
  float max_code;
  if (!dev || !x || !codes) return AIMC_E_ARG;
  if (!dev->loaded) return AIMC_E_STATE;
  max_code = (float)((1u << dev->dac_bits) - 1u);
  for (i = 0; i < count; ++i) {
    /* Half away from zero, as the compiler quantizes. */
    float c = roundf(x[i] / dev->in_scale) + (float)dev->in_zero;
    if (!(c > 0.0f)) c = 0.0f; /* also maps NaN to 0 */
    if (c > max_code) c = max_code;
    codes[i] = (uint8_t)c;
  }
  return AIMC_OK;
}

float aimc_output_scale(const aimc_dev_t* dev) { return dev ? dev->out_scale : 0.0f; }

int aimc_infer(aimc_dev_t* dev, const uint8_t* codes, uint32_t n, int32_t* outputs) {
  uint32_t done = 0;
  if (!dev || !codes || !outputs || n == 0) return AIMC_E_ARG;
  if (!dev->loaded) return AIMC_E_STATE;
  while (done < n) {
    uint32_t batch = n - done < dev->max_batch ? n - done : dev->max_batch;
    uint32_t in_len = batch * dev->in_features;
    uint32_t out_len = batch * dev->out_features * 4u;
    uint32_t lat = 0, seg;
    uint64_t lat_sum = 0;
    memcpy(dev->in_buf.cpu, codes + (size_t)done * dev->in_features, in_len);
    TRY(aimc_dma(dev, &dev->in_buf, 0, dev->in_addr, in_len, 0));
    for (seg = 0; seg < dev->segments; ++seg) {
      if (dev->segments > 1) {
        if (dev->resident_segment != (int)seg) TRY(load_segment(dev, seg));
        TRY(wr(dev, AIMC_REG_SEQ_PROG_ADDR, dev->seg_prog_addr[seg]));
      }
      TRY(wr(dev, AIMC_REG_SEQ_BATCH, batch));
      TRY(wr(dev, AIMC_REG_SEQ_START, 1u));
      TRY(aimc_wait_done(dev, AIMC_IRQ_INFER_DONE));
      /* The sequencer's latency covers one command: with segments, the compute time is their sum
       * (the reprogramming between them is counted apart, in reload_*). */
      TRY(rd(dev, AIMC_REG_SEQ_LATENCY_NS, &lat));
      lat_sum += lat;
    }
    dev->last_latency_ns = lat_sum;
    TRY(aimc_dma(dev, &dev->out_buf, 0, dev->out_addr, out_len, 1));
    /* The chip writes little-endian int32; so does every host this driver targets. */
    memcpy(outputs + (size_t)done * dev->out_features, dev->out_buf.cpu, out_len);
    done += batch;
    dev->commands++;
  }
  return AIMC_OK;
}

/* ---- Command queue ---------------------------------------------------------------------- */

int aimc_cq_init(aimc_dev_t* dev, uint32_t entries) {
  if (!dev || entries == 0) return AIMC_E_ARG;
  free_buf(dev, &dev->cq_ring);
  TRY(ensure_buf(dev, &dev->cq_ring, (size_t)entries * sizeof(aimc_cmd_t)));
  memset(dev->cq_ring.cpu, 0, (size_t)entries * sizeof(aimc_cmd_t));
  TRY(wr(dev, AIMC_REG_CQ_BASE, dev->cq_ring.bus_addr));
  TRY(wr(dev, AIMC_REG_CQ_ENTRIES, entries));
  dev->cq_entries = entries;
  dev->cq_tail = 0;
  return AIMC_OK;
}

static int infer_queued(aimc_dev_t* dev, const uint8_t* codes, uint32_t n, int32_t* outputs);

int aimc_infer_queued(aimc_dev_t* dev, const uint8_t* codes, uint32_t n, int32_t* outputs) {
  int rc;
  if (!dev || !codes || !outputs || n == 0) return AIMC_E_ARG;
  if (!dev->loaded) return AIMC_E_STATE;
  /* A queued command runs one program: an image with weight reload goes command by command. */
  if (dev->segments > 1) return aimc_infer(dev, codes, n, outputs);
  if (dev->cq_entries < 2) TRY(aimc_cq_init(dev, 64));
  clear_device_error(dev);
  rc = infer_queued(dev, codes, n, outputs);
  if (rc != AIMC_OK) {
    /* The chip stopped at the failed entry (or refused the doorbell) while the driver's tail moved
     * on: start the ring afresh (a CQ_BASE write empties it), so that the next call works. If
     * the queue is still running (a timeout), the rewrite is refused and the error stays. */
    uint32_t saved_error = dev->device_error, saved_addr = dev->device_error_addr, code = 0;
    if (wr(dev, AIMC_REG_CQ_BASE, dev->cq_ring.bus_addr) == AIMC_OK &&
        rd(dev, AIMC_REG_ERROR_CODE, &code) == AIMC_OK && code == AIMC_ERR_NONE)
      dev->cq_tail = 0;
    else if (code != AIMC_ERR_NONE)
      take_device_error(dev);
    dev->device_error = saved_error;
    dev->device_error_addr = saved_addr;
  }
  return rc;
}

static int infer_queued(aimc_dev_t* dev, const uint8_t* codes, uint32_t n, int32_t* outputs) {
  uint32_t done = 0;
  TRY(ensure_buf(dev, &dev->cq_in, (size_t)n * dev->in_features));
  TRY(ensure_buf(dev, &dev->cq_out, (size_t)n * dev->out_features * 4u));
  memcpy(dev->cq_in.cpu, codes, (size_t)n * dev->in_features);
  TRY(sync(dev, &dev->cq_in, 0, (size_t)n * dev->in_features, AIMC_DMA_TO_DEVICE));
  while (done < n) {
    /* Fill as many entries as the ring holds (one slot stays free to tell full from empty),
     * ring the doorbell once, wait for the last entry's interrupt. */
    uint32_t queued = 0, first = dev->cq_tail, i;
    aimc_cmd_t* ring = (aimc_cmd_t*)dev->cq_ring.cpu;
    while (done < n && queued < dev->cq_entries - 1) {
      uint32_t batch = n - done < dev->max_batch ? n - done : dev->max_batch;
      aimc_cmd_t* c = &ring[dev->cq_tail];
      c->opcode = AIMC_CMD_INFER;
      c->flags = 0;
      c->in_host_addr = dev->cq_in.bus_addr + done * dev->in_features;
      c->out_host_addr = dev->cq_out.bus_addr + done * dev->out_features * 4u;
      c->batch = batch;
      c->status = 0xFFFFFFFFu;
      c->latency_ns = 0;
      c->reserved = 0;
      done += batch;
      ++queued;
      if (done == n || queued == dev->cq_entries - 1) c->flags = AIMC_CMD_FLAG_IRQ;
      dev->cq_tail = (dev->cq_tail + 1) % dev->cq_entries;
    }
    TRY(sync(dev, &dev->cq_ring, 0, (size_t)dev->cq_entries * sizeof(aimc_cmd_t),
             AIMC_DMA_TO_DEVICE));
    TRY(wr(dev, AIMC_REG_CQ_TAIL, dev->cq_tail)); /* the doorbell */
    TRY(aimc_wait_done(dev, AIMC_IRQ_CQ_DONE));
    TRY(sync(dev, &dev->cq_ring, 0, (size_t)dev->cq_entries * sizeof(aimc_cmd_t),
             AIMC_DMA_FROM_DEVICE));
    for (i = 0; i < queued; ++i) {
      const aimc_cmd_t* c = &ring[(first + i) % dev->cq_entries];
      if (c->status != 0) {
        dev->device_error = c->status;
        return AIMC_E_DEVICE;
      }
      dev->last_latency_ns = c->latency_ns;
      dev->commands++;
    }
  }
  TRY(sync(dev, &dev->cq_out, 0, (size_t)n * dev->out_features * 4u, AIMC_DMA_FROM_DEVICE));
  memcpy(outputs, dev->cq_out.cpu, (size_t)n * dev->out_features * 4u);
  return AIMC_OK;
}

/* ---- Power, calibration, counters, cells ----------------------------------------------- */

int aimc_set_power_state(aimc_dev_t* dev, uint32_t state) {
  uint32_t v = 0;
  if (!dev || state > AIMC_POWER_STANDBY) return AIMC_E_ARG;
  clear_device_error(dev);
  TRY(wr(dev, AIMC_REG_POWER_STATE, state));
  TRY(rd(dev, AIMC_REG_POWER_STATE, &v));
  if (v != state) return take_device_error(dev);
  return AIMC_OK;
}

static int measure_zero(aimc_dev_t* dev, uint32_t tile, uint32_t cols, int32_t* out) {
  uint32_t c, v;
  TRY(wr(dev, AIMC_TILE_REG(tile, AIMC_TREG_TEST), 1u));
  for (c = 0; c < cols; ++c) {
    TRY(rd(dev, AIMC_TILE_REG(tile, AIMC_TREG_RESULT(c)), &v));
    out[c] = (int32_t)v;
  }
  return AIMC_OK;
}

int aimc_calibrate_tile(aimc_dev_t* dev, uint32_t tile, uint32_t cols, int32_t* offsets_before,
                        int32_t* offsets_after) {
  uint32_t c, trim = 0, err = 0;
  int32_t measured;
  if (!dev || tile >= dev->caps.tiles || cols == 0 || cols > dev->caps.array_cols) return AIMC_E_ARG;
  clear_device_error(dev);
  for (c = 0; c < cols; ++c) {
    /* The test reports raw (untrimmed) codes, so one measurement gives the whole offset. */
    if (c == 0) {
      TRY(wr(dev, AIMC_TILE_REG(tile, AIMC_TREG_TEST), 1u));
    }
    TRY(rd(dev, AIMC_TILE_REG(tile, AIMC_TREG_RESULT(c)), &trim));
    measured = (int32_t)trim;
    if (offsets_before) offsets_before[c] = measured;
    TRY(wr(dev, AIMC_TILE_REG(tile, AIMC_TREG_TRIM(c)), (uint32_t)measured));
  }
  TRY(rd(dev, AIMC_REG_ERROR_CODE, &err));
  if (err != AIMC_ERR_NONE) return take_device_error(dev);
  if (offsets_after) {
    /* What the digital unit now sees: the raw code minus the trim. */
    TRY(measure_zero(dev, tile, cols, offsets_after));
    for (c = 0; c < cols; ++c) {
      TRY(rd(dev, AIMC_TILE_REG(tile, AIMC_TREG_TRIM(c)), &trim));
      offsets_after[c] -= (int32_t)trim;
    }
  }
  return AIMC_OK;
}

int aimc_read_perf(aimc_dev_t* dev, aimc_perf_t* perf) {
  uint32_t lo = 0, hi = 0, hi2 = 0;
  if (!dev || !perf) return AIMC_E_ARG;
  do { /* a consistent 64-bit read: high, low, high again */
    TRY(rd(dev, AIMC_REG_PERF_CYCLES_HI, &hi));
    TRY(rd(dev, AIMC_REG_PERF_CYCLES_LO, &lo));
    TRY(rd(dev, AIMC_REG_PERF_CYCLES_HI, &hi2));
  } while (hi != hi2);
  perf->cycles = ((uint64_t)hi << 32) | lo;
  TRY(rd(dev, AIMC_REG_PERF_MVMS, &perf->mvms));
  TRY(rd(dev, AIMC_REG_PERF_CONVERSIONS, &perf->conversions));
  TRY(rd(dev, AIMC_REG_PERF_BUS_BYTES, &perf->bus_bytes));
  TRY(rd(dev, AIMC_REG_PERF_ENERGY_NJ, &perf->energy_nj));
  return AIMC_OK;
}

int aimc_reset_perf(aimc_dev_t* dev) {
  if (!dev) return AIMC_E_ARG;
  return wr(dev, AIMC_REG_PERF_CTRL, AIMC_PERF_CTRL_RESET_MASK);
}

static int prog_cmd(aimc_dev_t* dev, uint32_t tile, uint32_t op) {
  uint32_t st = 0;
  TRY(wr(dev, AIMC_REG_PROG_TILE, tile));
  TRY(wr(dev, AIMC_REG_PROG_CMD, op));
  TRY(aimc_wait_done(dev, AIMC_IRQ_PROG_DONE));
  TRY(rd(dev, AIMC_REG_PROG_STATUS, &st));
  return st == AIMC_STATE_DONE ? AIMC_OK : AIMC_E_DEVICE;
}

int aimc_read_cell(aimc_dev_t* dev, uint32_t tile, uint32_t row, uint32_t col, int negative,
                   uint32_t* picosiemens) {
  if (!dev || !picosiemens) return AIMC_E_ARG;
  TRY(wr(dev, AIMC_REG_PROG_ROW, row));
  TRY(wr(dev, AIMC_REG_PROG_COL, col));
  TRY(wr(dev, AIMC_REG_PROG_SIDE, negative ? 1u : 0u));
  TRY(prog_cmd(dev, tile, AIMC_PROG_READ_CELL));
  return rd(dev, AIMC_REG_PROG_READ_PS, picosiemens);
}

int aimc_erase_tile(aimc_dev_t* dev, uint32_t tile) {
  if (!dev) return AIMC_E_ARG;
  return prog_cmd(dev, tile, AIMC_PROG_ERASE);
}

int aimc_verify_tile(aimc_dev_t* dev, uint32_t tile, uint32_t tolerance_ppm, uint32_t* failures) {
  uint32_t old_abs = 0, old_rel = 0;
  int rc;
  if (!dev || !failures) return AIMC_E_ARG;
  TRY(rd(dev, AIMC_REG_PROG_TOLERANCE_PPM, &old_abs));
  TRY(rd(dev, AIMC_REG_PROG_TOL_REL_PPM, &old_rel));
  TRY(wr(dev, AIMC_REG_PROG_TOLERANCE_PPM, tolerance_ppm));
  TRY(wr(dev, AIMC_REG_PROG_TOL_REL_PPM, 0u));
  rc = prog_cmd(dev, tile, AIMC_PROG_VERIFY);
  if (rc == AIMC_OK) rc = rd(dev, AIMC_REG_PROG_VERIFY_FAILS, failures);
  TRY(wr(dev, AIMC_REG_PROG_TOLERANCE_PPM, old_abs));
  TRY(wr(dev, AIMC_REG_PROG_TOL_REL_PPM, old_rel));
  return rc;
}

int aimc_dma_chain(aimc_dev_t* dev, uint32_t first) {
  if (!dev || first == 0) return AIMC_E_ARG;
  TRY(wr(dev, AIMC_REG_DMA_DESC_ADDR, first));
  TRY(wr(dev, AIMC_REG_DMA_CTRL, AIMC_DMA_CTRL_CHAIN_MASK));
  TRY(wr(dev, AIMC_REG_DMA_START, 1u));
  return aimc_wait_done(dev, AIMC_IRQ_DMA_DONE);
}
