/* aimc_driver.h: the aimc firmware driver. Plain C11, depends only on the C standard library and
 * the HAL. Typical use:
 *
 *   aimc_dev_t dev;
 *   aimc_init(&dev, hal);                       // checks the chip ID, resets, enables IRQs
 *   aimc_load_image(&dev, image, image_size);   // programs the tiles, loads the layer program
 *   aimc_quantize_inputs(&dev, x, n * in, codes);
 *   aimc_infer(&dev, codes, n, outputs);        // n vectors in, n * out int32 values out
 *   float logit = outputs[i] * aimc_output_scale(&dev);
 */
#ifndef AIMC_DRIVER_H
#define AIMC_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "aimc_hal.h"
#include "aimc_image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aimc_status {
  AIMC_OK = 0,
  AIMC_E_HAL = -1,       /* a register access or DMA buffer allocation failed in the HAL */
  AIMC_E_NODEV = -2,     /* the chip did not answer with the aimc ID or a known version */
  AIMC_E_IMAGE = -3,     /* the deployment image is malformed or does not fit this chip */
  AIMC_E_TIMEOUT = -4,   /* the chip did not raise the expected interrupt in time */
  AIMC_E_DEVICE = -5,    /* the chip reported an error; see aimc_dev_t.device_error */
  AIMC_E_ARG = -6,       /* bad argument (NULL pointer, zero count, ...) */
  AIMC_E_STATE = -7,     /* call out of order (e.g. infer before an image is loaded) */
} aimc_status_t;

const char* aimc_strerror(int status);

typedef struct aimc_caps {
  uint32_t grid_rows, grid_cols, tiles;
  uint32_t array_rows, array_cols;
  uint32_t dac_bits, adc_bits, cell_bits;
  uint32_t sram_bytes;
  uint32_t device_type;      /* AIMC_DEVICE_* (register map 1.1 and later; 0 before) */
  uint32_t balanced_pairs;   /* 1 when a pair holds +-level/2 around mid-range */
} aimc_caps_t;

typedef struct aimc_dev {
  aimc_hal_t hal;
  aimc_caps_t caps;
  uint32_t version;
  /* Set by aimc_load_image from the image's layer program. */
  int loaded;
  uint32_t in_features, out_features, max_batch;
  uint32_t in_addr, out_addr, prog_addr;
  float in_scale, out_scale;
  uint32_t dac_bits;
  uint32_t in_zero;          /* DAC code of input value 0 */
  /* Weight reload (an image cut into segments, see aimc_image.h): the program address of each
   * segment, which segment the tiles hold (-1: unknown), and the image, kept for reprogramming. */
  uint32_t segments;
  uint32_t seg_prog_addr[AIMC_MAX_SEGMENTS];
  int resident_segment;
  const uint8_t* image;
  size_t image_size;
  /* Host DMA buffers, grown on demand. */
  aimc_dma_buf_t in_buf, out_buf;
  /* Command queue ring (aimc_cq_init) and its data buffers. */
  aimc_dma_buf_t cq_ring, cq_in, cq_out;
  uint32_t cq_entries, cq_tail;
  /* The error the chip reported (AIMC_ERR_*) to the last call that talks to the chip, and the
   * argument it named; AIMC_ERR_NONE after such a call succeeded. */
  uint32_t device_error, device_error_addr;
  /* Interrupt sources (AIMC_IRQ_* bits) that fired while the driver waited for another one, e.g.
   * PROG_YIELD, ADC_CLIP or TEMP_ALARM during an inference: acknowledged on the chip with the
   * awaited source, kept here until aimc_take_irqs. */
  uint32_t irq_pending;
  /* Timeout for each wait on the chip, in ns of chip time. */
  uint64_t timeout_ns;
  /* Statistics. */
  uint64_t dma_bytes, commands;
  uint64_t last_latency_ns; /* SEQ_LATENCY_NS of the last command (summed over its segments) */
  /* Programming statistics of the last aimc_load_image (sums over its PROGRAM commands). */
  uint64_t prog_cells, prog_pulses, prog_unconverged;
  /* Weight reloads during inference: segment loads and their PROGRAM statistics. */
  uint64_t reloads, reload_cells, reload_pulses, reload_unconverged;
} aimc_dev_t;

int aimc_init(aimc_dev_t* dev, aimc_hal_t hal);
void aimc_release(aimc_dev_t* dev);
/* Programs every WEIGHTS section of segment 0 into its tile (program-and-verify; cells left
 * outside the tolerance are counted in dev->prog_unconverged, not treated as an error) and loads
 * the programs of all segments. An image of several segments (weight reload) is kept by pointer:
 * it must stay valid while the device uses it, since aimc_infer reprograms the tiles from it. */
int aimc_load_image(aimc_dev_t* dev, const void* image, size_t size);
/* Like aimc_load_image, but the tiles already hold the image's weights (a chip restored from a
 * checkpoint, or programmed earlier): only the layer program is loaded. Fails with AIMC_E_STATE
 * if a tile the image uses holds no weights or a block of another size. */
int aimc_attach_image(aimc_dev_t* dev, const void* image, size_t size);
/* The checks aimc_load_image and aimc_attach_image make of an image before they touch the chip,
 * as a pure function (no HAL, no allocation, nothing written): AIMC_OK when `image` (size bytes)
 * is a well-formed deployment image (docs/deployment-image.md) that fits a chip of `tiles` tiles
 * and `sram_bytes` of activation SRAM, else AIMC_E_IMAGE (AIMC_E_ARG for a NULL image).
 * Checked: the header (magic, version, total_bytes == size, a section table inside the file);
 * every section's payload inside the file, 8-byte aligned, after the table and overlapping no
 * other; the types and their fields (META: at most one, tile AIMC_TILE_NONE, segment 0;
 * WEIGHTS: tile < tiles, one per tile and segment, a weights header with bits_per_cell in
 * [1, 15] and a size of exactly rows * cols levels; PROGRAM: tile AIMC_TILE_NONE, one per
 * segment, a header with the program magic, ops, in/out features, max_batch, dac_bits in
 * [1, 8], finite positive in/out scales, a size of exactly its tables, and a batch of inputs and
 * of int32 outputs inside sram_bytes); segments numbered 0 .. n-1 without gaps, every WEIGHTS
 * section in one of them, every program header describing the same network as segment 0's.
 * Not checked here: the META JSON, the level values and the program's ops, slices and tables;
 * the chip checks those (the programming controller, the sequencer on every doorbell). */
int aimc_image_check(const void* image, size_t size, uint32_t tiles, uint64_t sram_bytes);
/* codes: n vectors of in_features DAC codes; outputs: n vectors of out_features int32 values.
 * Batches larger than the image's max_batch are split into several commands. With several
 * segments, every batch runs the segments in order and the tiles are reprogrammed for each
 * segment they do not hold (dev->reloads counts it). */
int aimc_infer(aimc_dev_t* dev, const uint8_t* codes, uint32_t n, int32_t* outputs);
/* x: count floats -> DAC codes with the image's input scale and zero point
 * (round(x / in_scale) + in_zero, clamped). */
int aimc_quantize_inputs(const aimc_dev_t* dev, const float* x, size_t count, uint8_t* codes);
float aimc_output_scale(const aimc_dev_t* dev);

/* ---- Command queue: a batch of inference commands with one doorbell ---- */
/* Allocates a ring of `entries` commands in host memory and programs CQ_BASE/CQ_ENTRIES. */
int aimc_cq_init(aimc_dev_t* dev, uint32_t entries);
/* Like aimc_infer, but queues every max_batch chunk as one command, rings the doorbell once and
 * waits for the queue to drain; no host traffic per layer or per chunk. */
int aimc_infer_queued(aimc_dev_t* dev, const uint8_t* codes, uint32_t n, int32_t* outputs);

/* ---- Power states (AIMC_POWER_*) ---- */
int aimc_set_power_state(aimc_dev_t* dev, uint32_t state);

/* ---- Per-tile ADC offset calibration ---- */
/* Measures the raw ADC output of `cols` columns of `tile` with zero input (TILE_TEST), writes the
 * trims that cancel it (TILE_TRIM), and measures again. offsets_before/after (cols values each,
 * either may be NULL) receive the measured column outputs in ADC codes. */
int aimc_calibrate_tile(aimc_dev_t* dev, uint32_t tile, uint32_t cols, int32_t* offsets_before,
                        int32_t* offsets_after);

/* ---- Drift compensation (a global output scale per tile, as on IBM's PCM chips) ---- */
/* Right after programming: runs each programmed tile's calibration read (TILE CAL) and keeps the
 * result in its CAL_REF register (saved in checkpoints with the cells). */
int aimc_drift_reference(aimc_dev_t* dev);
/* Later (after time or a temperature change): measures again and sets each programmed tile's
 * GAIN to CAL_REF / CAL_NA, so that its outputs regain their scale at programming time. Tiles
 * without a reference are left alone. *tiles_adjusted (may be NULL) receives how many changed. */
int aimc_drift_compensate(aimc_dev_t* dev, uint32_t* tiles_adjusted);
/* The die temperature sensor, in milli-degrees Celsius. */
int aimc_read_temperature(aimc_dev_t* dev, int32_t* millicelsius);

/* ---- Performance counters ---- */
typedef struct aimc_perf {
  uint64_t cycles;       /* reference-clock cycles (CAPS_CLOCK_MHZ) since the last reset */
  uint32_t mvms;         /* tile MVMs */
  uint32_t conversions;  /* DAC + ADC conversions */
  uint32_t bus_bytes;    /* bytes moved on the chip bus */
  uint32_t energy_nj;    /* dynamic energy */
} aimc_perf_t;
int aimc_read_perf(aimc_dev_t* dev, aimc_perf_t* perf);
int aimc_reset_perf(aimc_dev_t* dev);

/* ---- NVM cells ---- */
/* Conductance of one cell (negative = 0: the pair's positive cell) in picosiemens. */
int aimc_read_cell(aimc_dev_t* dev, uint32_t tile, uint32_t row, uint32_t col, int negative,
                   uint32_t* picosiemens);
/* Erases a tile (flash: every sector to the erased state; pcm/rram: RESET). */
int aimc_erase_tile(aimc_dev_t* dev, uint32_t tile);
/* Verifies a tile against the weight block now in the staging buffer: cells whose conductance now
 * is more than tolerance_ppm (of g_max) away from their target are counted in *failures. The
 * relative tolerance PROG_TOL_REL_PPM is set to 0 for the command and restored afterwards. */
int aimc_verify_tile(aimc_dev_t* dev, uint32_t tile, uint32_t tolerance_ppm, uint32_t* failures);

/* Lower-level helpers, used by the above and by firmware that drives the chip itself. */
int aimc_dma(aimc_dev_t* dev, aimc_dma_buf_t* buf, size_t buf_offset, uint32_t dev_addr,
             uint32_t len, int to_host);
int aimc_wait_done(aimc_dev_t* dev, uint32_t irq_bit);
/* Returns the interrupt sources that fired while the driver waited for others (irq_pending) and
 * forgets them. */
uint32_t aimc_take_irqs(aimc_dev_t* dev);
/* Runs a descriptor chain (aimc_hw.h) whose first descriptor is at `first` in host memory (the
 * caller has synced the descriptors and any to-chip data AIMC_DMA_TO_DEVICE). */
int aimc_dma_chain(aimc_dev_t* dev, uint32_t first);

#ifdef __cplusplus
}
#endif

#endif /* AIMC_DRIVER_H */
