/* aimc_hw.h: data structures the chip reads from or writes to host memory. Plain C11, shared by
 * the firmware and the virtual platform (one definition). Little-endian, 4-byte aligned.
 *
 * DMA descriptor chains (scatter-gather, 2D): write the host address of the first descriptor to
 * DMA_DESC_ADDR and start the DMA with DMA_CTRL.CHAIN set. The engine checks the whole chain
 * before it moves a byte: a malformed descriptor is rejected (ERR_BAD_DESCRIPTOR), a range
 * outside memory faults (ERR_DMA_FAULT), and in both cases nothing is written.
 *
 * Command queue: a ring of aimc_cmd_t in host memory (CQ_BASE, CQ_ENTRIES). The firmware fills
 * entries from CQ_TAIL on and then writes the new tail to CQ_TAIL (the doorbell); the chip runs
 * each entry from CQ_HEAD on (input DMA, the layer program, output DMA), writes the entry's
 * `status` and `latency_ns` back, advances CQ_HEAD and, if the entry asks, raises IRQ CQ_DONE. */
#ifndef AIMC_HW_H
#define AIMC_HW_H

#include <stdint.h>

#define AIMC_DMA_DESC_DIR_TO_HOST (1u << 0) /* 0: host -> chip, 1: chip -> host */

typedef struct aimc_dma_desc {
  uint32_t next;        /* host address of the next descriptor; 0 ends the chain */
  uint32_t flags;       /* AIMC_DMA_DESC_* */
  uint32_t host_addr;   /* first byte in host memory */
  uint32_t dev_addr;    /* first byte on the chip bus */
  uint32_t row_bytes;   /* bytes per row (> 0) */
  uint32_t rows;        /* rows (>= 1; 1 = a linear transfer) */
  uint32_t host_stride; /* bytes between row starts in host memory (>= row_bytes if rows > 1) */
  uint32_t dev_stride;  /* bytes between row starts on the chip (>= row_bytes if rows > 1) */
} aimc_dma_desc_t;      /* 32 bytes, 4-byte aligned in host memory */

#define AIMC_DMA_MAX_CHAIN 4096u /* a longer chain (or a loop) is malformed */

#define AIMC_CMD_INFER 1u             /* opcode: run the loaded layer program on a batch */
#define AIMC_CMD_FLAG_IRQ (1u << 0)   /* raise IRQ CQ_DONE when this entry completes */

typedef struct aimc_cmd {
  uint32_t opcode;        /* AIMC_CMD_* */
  uint32_t flags;         /* AIMC_CMD_FLAG_* */
  uint32_t in_host_addr;  /* batch * in_features input codes (bytes), vector after vector */
  uint32_t out_host_addr; /* batch * out_features int32 outputs are written here */
  uint32_t batch;         /* vectors, 1 .. max_batch of the loaded program */
  uint32_t status;        /* written by the chip: AIMC_ERR_NONE or an error code */
  uint32_t latency_ns;    /* written by the chip: doorbell-to-first-output of this command */
  uint32_t reserved;
} aimc_cmd_t;             /* 32 bytes */

#endif /* AIMC_HW_H */
