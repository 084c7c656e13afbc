/* aimc deployment image, format version 1: what the compiler writes, the firmware driver loads,
 * and the platform executes. Plain C11, shared by the compiler (C++), the driver and the VP.
 * The full description with examples is docs/deployment-image.md.
 *
 * All integers are little-endian. The file is:
 *   aimc_image_header_t
 *   aimc_image_section_t[section_count]
 *   section payloads, each at its `offset` from the start of the file, 8-byte aligned.
 */
#ifndef AIMC_IMAGE_H
#define AIMC_IMAGE_H

#include <stdint.h>

#define AIMC_IMAGE_MAGIC "AIMCIMG1" /* 8 bytes, no terminator in the file */
#define AIMC_IMAGE_VERSION 1u
#define AIMC_PROGRAM_MAGIC 0x50514553u /* "SEQP" */
#define AIMC_TILE_NONE 0xFFFFFFFFu

typedef struct {
  char magic[8];          /* AIMC_IMAGE_MAGIC */
  uint32_t version;       /* AIMC_IMAGE_VERSION */
  uint32_t section_count;
  uint64_t total_bytes;   /* size of the whole file */
  uint64_t reserved;
} aimc_image_header_t;    /* 32 bytes */

enum aimc_section_type {
  /* UTF-8 JSON for people and tools (model name, layer names, platform it was compiled for,
   * input/output shapes and scales). Not loaded into the chip. */
  AIMC_SECTION_META = 1,
  /* Target cell levels of one tile: aimc_weights_hdr_t then int16_t level[rows * cols], row-major
   * (row = word line = input, col = weight column = output). level in [-(L-1), L-1] with
   * L = 2^bits_per_cell: level > 0 programs the positive cell of the pair to `level` and the
   * negative cell to level 0 (g_min); level < 0 the reverse. Loaded by DMA into the programming
   * controller's staging buffer (dest_addr), then a program command for `tile`. */
  AIMC_SECTION_WEIGHTS = 2,
  /* The layer program: aimc_program_hdr_t, aimc_layer_t[layer_count], aimc_slice_t[slice_count],
   * float bias[bias_count]. Loaded by DMA to dest_addr (the sequencer's program memory). */
  AIMC_SECTION_PROGRAM = 3,
};

typedef struct {
  uint32_t type;      /* enum aimc_section_type */
  uint32_t tile;      /* tile index for WEIGHTS, AIMC_TILE_NONE otherwise */
  uint32_t dest_addr; /* chip bus address the payload is DMA'd to (0 for META) */
  uint32_t reserved;
  uint64_t offset;    /* from the start of the file */
  uint64_t size;      /* payload bytes */
} aimc_image_section_t; /* 32 bytes */

typedef struct {
  uint32_t rows;            /* word lines used, <= array rows */
  uint32_t cols;            /* weight columns used, <= array cols */
  uint32_t bits_per_cell;   /* L = 2^bits_per_cell levels */
  uint32_t reserved;
} aimc_weights_hdr_t;       /* followed by int16_t level[rows * cols] */

typedef struct {
  uint32_t magic;           /* AIMC_PROGRAM_MAGIC */
  uint32_t layer_count;
  uint32_t slice_count;
  uint32_t bias_count;      /* floats in the bias table */
  uint32_t in_features;     /* of the network input */
  uint32_t out_features;    /* of the network output */
  uint32_t in_addr;         /* bus address where the driver DMAs input vectors (activation SRAM) */
  uint32_t out_addr;        /* bus address where the last layer writes its outputs */
  float in_scale;           /* network input x (float) -> DAC code = clamp(round(x / in_scale)) */
  float out_scale;          /* network output = int32 output value * out_scale */
  uint32_t dac_bits;        /* DAC codes the network was quantized for */
  uint32_t max_batch;       /* most vectors per inference command the SRAM layout holds (>= 1) */
  /* What else the arithmetic (acc_scale) assumed of the chip; the sequencer refuses a program
   * quantized for a different ADC, cell or conductance range (ERR_BAD_PROGRAM). */
  uint32_t adc_bits;
  uint32_t bits_per_cell;
  float g_min_over_g_max;
  uint32_t reserved;        /* 0 */
} aimc_program_hdr_t;       /* 64 bytes */

enum aimc_layer_flags {
  AIMC_LAYER_RELU = 1u << 0,       /* ReLU after bias */
  AIMC_LAYER_OUTPUT_I32 = 1u << 1, /* last layer: write int32 round(y / out_scale) instead of codes */
};

/* One dense layer y = W x + b on the tiles. Activations live in the activation SRAM, vector after
 * vector: vector v of the batch at in_addr + v * in_stride. Activation codes are unsigned bytes
 * (DAC codes, dac_bits <= 8). */
typedef struct {
  uint32_t in_features;
  uint32_t out_features;
  uint32_t in_addr, in_stride;     /* bus address and bytes per vector of the input codes */
  uint32_t out_addr, out_stride;   /* bus address and bytes per vector of the output */
  uint32_t flags;                  /* enum aimc_layer_flags */
  uint32_t first_slice, slice_count;
  uint32_t bias_offset;            /* index of this layer's out_features biases in the bias table */
  float adc_full_scale;            /* ADC full scale in normalized current units (see docs) */
  float acc_scale;                 /* y = (sum over row slices of ADC codes) * acc_scale + bias */
  float out_quant_scale;           /* output code = clamp(round(y / out_quant_scale), 0, 2^dac_bits-1),
                                      or int32 round(y / out_quant_scale) with OUTPUT_I32 */
  uint32_t reserved;
} aimc_layer_t;                    /* 56 bytes */

/* A block of a layer's weight matrix placed on one tile: inputs [row_begin, row_begin+row_count)
 * of the layer land on word lines [0, row_count) of the tile, outputs [col_begin, ...) on weight
 * columns [0, col_count). Partial sums of slices that share a column range are added digitally
 * in the digital unit of `reduce_tile`. */
typedef struct {
  uint32_t tile;
  uint32_t row_begin, row_count;
  uint32_t col_begin, col_count;
  uint32_t reduce_tile;
} aimc_slice_t;                    /* 24 bytes */

#endif /* AIMC_IMAGE_H */
