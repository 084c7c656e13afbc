/* aimc deployment image, format version 2: what the compiler writes, the firmware driver loads,
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
#define AIMC_IMAGE_VERSION 2u
#define AIMC_MAX_SEGMENTS 64u      /* weight loads per pass of the network (see segment) */
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

/* Segments (weight reload). A network whose weights do not fit on the chip at once is cut into
 * segments of consecutive ops that each fit. Every WEIGHTS and PROGRAM section names its segment;
 * there is one PROGRAM per segment, at its own dest_addr. To run a batch, the driver runs the
 * segments in order, programming a segment's tiles (its WEIGHTS sections) before its program when
 * they do not hold them already. Activations stay in the activation SRAM between segments. An
 * image that fits has one segment, 0. */
typedef struct {
  uint32_t type;      /* enum aimc_section_type */
  uint32_t tile;      /* tile index for WEIGHTS, AIMC_TILE_NONE otherwise */
  uint32_t dest_addr; /* chip bus address the payload is DMA'd to (0 for META) */
  uint32_t segment;   /* WEIGHTS, PROGRAM: segment index, 0 .. segments - 1 (0 for META) */
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
  uint32_t in_zero;         /* DAC code of input value 0: code = clamp(round(x / in_scale) + in_zero) */
} aimc_program_hdr_t;       /* 64 bytes */

enum aimc_layer_flags {
  AIMC_LAYER_RELU = 1u << 0,       /* y = max(y, 0) (also act_min = 0) */
  AIMC_LAYER_OUTPUT_I32 = 1u << 1, /* network output: write int32 round(y / out_quant_scale) */
  AIMC_LAYER_COUNT_PAD = 1u << 2,  /* AVGPOOL: divide by kh * kw, padding included */
  AIMC_LAYER_BIT_SERIAL = 1u << 3, /* MVM: quantized for bit-serial inputs (one read and one ADC
                                    * conversion per input bit, shifted and added: adc_full_scale is
                                    * that of one bit's partial sum); the chip's input driver must be
                                    * bit_serial, and every MVM op of such a chip carries it */
  AIMC_LAYER_SIGN_SPLIT = 1u << 4, /* MVM: quantized for sign-split reads (tile.array.read_phases 2
                                    * or 4): the g+ and g- sides are converted apart as unipolar
                                    * counts 0..2^adc_bits-1 of adc_full_scale and subtracted; the
                                    * chip's read_phases must be > 1, and every MVM op of such a
                                    * chip carries it */
  AIMC_LAYER_COLUMN_SCALES = 1u << 5, /* MVM: one weight scale per output column: out_c floats in
                                      * the table right after the op's biases (at bias_offset +
                                      * out_c); y = acc * acc_scale * column_scale[o] + bias[o] */
  AIMC_LAYER_IN2_PER_CHANNEL = 1u << 6, /* ADD, MUL: the second input is a 1 x 1 x in_c map (one value
                                        * per channel, squeeze-excitation), broadcast over the pixels */
  /* Bits 8-11: the op's activation (enum aimc_act), applied to y before the act clamp by the
   * digital unit that requantizes the op's output: (flags & AIMC_LAYER_ACT_MASK) >> AIMC_LAYER_ACT_SHIFT.
   * Its parameters, if it has any, are floats in the table after the op's biases (and column
   * scales): at bias_offset + out_c for MVM and DWCONV (+ out_c more with COLUMN_SCALES), at
   * bias_offset for the other ops. */
  AIMC_LAYER_ACT_MASK = 0xFu << 8,
};
#define AIMC_LAYER_ACT_SHIFT 8u

/* Element-wise activations of the digital units (docs/chip-model.md, "Activations"); the numbers
 * are part of the format. Parameters in the table: LEAKY_RELU, ELU alpha; HARD_SIGMOID alpha,
 * beta; PRELU one slope per output channel; the others none. */
enum aimc_act {
  AIMC_ACT_NONE = 0,
  AIMC_ACT_SIGMOID = 1,      /* 1 / (1 + e^-y) */
  AIMC_ACT_TANH = 2,
  AIMC_ACT_SILU = 3,         /* y * sigmoid(y) */
  AIMC_ACT_GELU = 4,         /* y / 2 * (1 + erf(y / sqrt 2)) */
  AIMC_ACT_GELU_TANH = 5,    /* y / 2 * (1 + tanh(sqrt(2 / pi) (y + 0.044715 y^3))) */
  AIMC_ACT_LEAKY_RELU = 6,   /* y >= 0 ? y : alpha y */
  AIMC_ACT_PRELU = 7,        /* y >= 0 ? y : slope[channel] y */
  AIMC_ACT_HARD_SIGMOID = 8, /* max(0, min(1, alpha y + beta)) */
  AIMC_ACT_HARD_SWISH = 9,   /* y * max(0, min(1, y / 6 + 1 / 2)) */
  AIMC_ACT_ELU = 10,         /* y >= 0 ? y : alpha (e^y - 1) */
  AIMC_ACT_COUNT = 11
};

enum aimc_op_kind {
  AIMC_OP_MVM = 0,     /* dense layer or convolution on the tiles, over im2col patches */
  AIMC_OP_MAXPOOL = 1, /* window max of codes (same scale and zero in and out) */
  AIMC_OP_AVGPOOL = 2, /* window mean over the in-map elements; global pooling = window of the map */
  AIMC_OP_ADD = 3,     /* y = x1 + x2 (both dequantized; x2 per channel with IN2_PER_CHANNEL), then act
                        * clamp, requantize */
  AIMC_OP_CONCAT = 4,  /* copies (requantizing) the input into channels [out_c_offset, +in_c) */
  AIMC_OP_SOFTMAX = 5, /* softmax over the in_c channels of a 1 x 1 map */
  AIMC_OP_DWCONV = 6,  /* depthwise convolution in the digital unit; integer weights in the table */
  AIMC_OP_ACT = 7,     /* element-wise: the codes dequantized, the op's activation, clamp, requantize */
  AIMC_OP_MUL = 8,     /* y = x1 * x2 (both dequantized; x2 per channel with IN2_PER_CHANNEL), then
                        * activation, clamp, requantize */
};

/* One op of the program. Activation maps live in the activation SRAM as unsigned codes, pixel
 * after pixel (row-major) with the channels of a pixel contiguous (H, W, C): element (y, x, c) of
 * image v at addr + v * stride + (y * w + x) * pixel_channels + c. A code stands for
 * scale * (code - zero).
 *
 * AIMC_OP_MVM: for each output position, the patch of kh x kw input pixels (zero padding = the
 * code in_zero) is read into the tiles in the order (group, ky, kx, channel in group): that is
 * in_features = kh * kw * in_c rows. Slices cut the rows x out_features weight matrix into blocks;
 * a grouped convolution's matrix is block-diagonal and only its non-zero blocks are sliced.
 * y = (sum over row slices of ADC codes) * acc_scale + bias, clamped to [act_min, act_max]. A dense
 * layer is the 1 x 1 case. The output code is clamp(round(y / out_quant_scale) + out_zero, 0,
 * 2^dac_bits - 1) (or int32 round(y / out_quant_scale) with OUTPUT_I32).
 * Digital ops run on the digital unit of tile `unit`. */
typedef struct {
  uint32_t in_features;            /* MVM: rows of a patch; other ops: in_h * in_w * in_c */
  uint32_t out_features;           /* MVM: output channels; other ops: out_h * out_w * out_c */
  uint32_t in_addr, in_stride;     /* bus address and bytes per image of the input codes */
  uint32_t out_addr, out_stride;   /* bus address and bytes per image of the output */
  uint32_t flags;                  /* enum aimc_layer_flags */
  uint32_t first_slice, slice_count;
  uint32_t bias_offset;            /* index of this op's out_c biases in the table (MVM, DWCONV) */
  float adc_full_scale;            /* ADC full scale in normalized current units (see docs) */
  float acc_scale;                 /* MVM, DWCONV: y = acc * acc_scale + bias */
  float out_quant_scale;           /* output scale (value of one code step) */
  uint32_t kind;                   /* enum aimc_op_kind */
  uint32_t in_h, in_w, in_c;       /* input map */
  uint32_t out_h, out_w, out_c;    /* output map (out_c of this op, see out_pixel_channels) */
  uint32_t kh, kw, stride_h, stride_w;
  uint32_t pad_t, pad_l, pad_b, pad_r;
  uint32_t groups;                 /* MVM, DWCONV */
  uint32_t in_zero, out_zero;      /* codes of value 0 */
  float in_scale;                  /* digital ops: value of one input code step */
  uint32_t in2_addr, in2_stride, in2_zero;  /* ADD, MUL: the second input */
  float in2_scale;
  uint32_t out_c_offset;           /* first output channel written (CONCAT; 0 otherwise) */
  uint32_t out_pixel_channels;     /* channels per output pixel in memory (>= out_c_offset + out_c) */
  float act_min, act_max;          /* clamp of y before requantization (-inf/inf: none) */
  uint32_t weight_offset;          /* DWCONV: index of kh*kw*out_c integer weights in the table */
  uint32_t unit;                   /* tile whose digital unit runs a digital op */
  /* MVM: copies of the op's weights on different tiles (0 or 1: one). The op's slices are
   * `replicas` runs of slice_count / replicas slices, one run per copy, each covering the whole
   * matrix. The chunks of output positions of a batch (image after image) go to the copies in
   * turn: chunk g to copy g mod replicas. Other ops: 0 or 1. */
  uint32_t replicas;
} aimc_layer_t;                    /* 172 bytes */

/* A block of an MVM op's weight matrix placed on one tile: rows [row_begin, row_begin+row_count)
 * of the patch land on word lines [tile_row, tile_row + row_count) of the tile, outputs
 * [col_begin, ...) on weight columns [tile_col, tile_col + col_count). Blocks of several ops may
 * share a tile (packing) on disjoint rectangles. Partial sums of slices that share a column range
 * are added digitally in the digital unit of `reduce_tile`. */
typedef struct {
  uint32_t tile;
  uint32_t row_begin, row_count;
  uint32_t col_begin, col_count;
  uint32_t reduce_tile;
  uint32_t tile_row, tile_col;
} aimc_slice_t;                    /* 32 bytes */

#endif /* AIMC_IMAGE_H */
