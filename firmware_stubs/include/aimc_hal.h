/* aimc_hal.h: the hardware abstraction layer the aimc firmware driver is written against.
 * Plain C11. A platform provides the operations: the virtual platform implements them on a TLM
 * initiator socket (platforms/vp_hal.cpp); silicon would implement them with MMIO and the OS's
 * DMA and interrupt services.
 *
 * Register addresses are byte offsets from the chip's register bank (AIMC_REG_* in aimc_regs.h).
 * DMA buffers are host memory the chip's DMA engine can reach: `cpu` is where the firmware reads
 * and writes it, `bus_addr` is what goes into DMA_HOST_ADDR. */
#ifndef AIMC_HAL_H
#define AIMC_HAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* HAL return codes: 0 on success, negative on failure. */
#define AIMC_HAL_OK 0
#define AIMC_HAL_BUS_ERROR (-1) /* the access got an error response from the chip */
#define AIMC_HAL_TIMEOUT (-2)   /* wait_irq: no interrupt within the timeout */
#define AIMC_HAL_NO_MEMORY (-3) /* dma_alloc: no host memory left */

/* The longest wait_irq waits, in ns of chip time (1e6 s): a longer timeout (UINT64_MAX for
 * "forever") is taken as this, so that chip time stays far inside its 64-bit ps range. */
#define AIMC_HAL_MAX_WAIT_NS 1000000000000000ull

typedef struct aimc_dma_buf {
  void* cpu;         /* firmware-visible pointer */
  uint32_t bus_addr; /* address for DMA_HOST_ADDR */
  size_t size;       /* bytes */
} aimc_dma_buf_t;

/* Directions for dma_sync. */
#define AIMC_DMA_TO_DEVICE 0   /* the CPU wrote the buffer; the chip will read it */
#define AIMC_DMA_FROM_DEVICE 1 /* the chip wrote the buffer; the CPU will read it */

typedef struct aimc_hal_ops {
  int (*read32)(void* ctx, uint32_t offset, uint32_t* value);
  int (*write32)(void* ctx, uint32_t offset, uint32_t value);
  int (*dma_alloc)(void* ctx, size_t size, aimc_dma_buf_t* buf);
  void (*dma_free)(void* ctx, aimc_dma_buf_t* buf);
  /* Makes bytes [offset, offset + len) of a DMA buffer coherent, as an OS's DMA API does for
   * non-coherent memory: AIMC_DMA_TO_DEVICE after the CPU wrote them and before the chip reads
   * them, AIMC_DMA_FROM_DEVICE after the chip wrote them and before the CPU reads them. A no-op
   * where the memory is shared (the in-process VP); it moves the bytes for remote firmware. */
  int (*dma_sync)(void* ctx, aimc_dma_buf_t* buf, size_t offset, size_t len, int direction);
  /* Blocks until the chip's interrupt line is asserted (returns at once if it already is), or
   * until timeout_ns of chip time has passed; a timeout above AIMC_HAL_MAX_WAIT_NS waits that long
   * (in process and remote alike). */
  int (*wait_irq)(void* ctx, uint64_t timeout_ns);
} aimc_hal_ops_t;

typedef struct aimc_hal {
  const aimc_hal_ops_t* ops;
  void* ctx;
} aimc_hal_t;

#ifdef __cplusplus
}
#endif

#endif /* AIMC_HAL_H */
