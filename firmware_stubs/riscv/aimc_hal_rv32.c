/* aimc_hal_rv32.c: the aimc HAL on the VP's RV32IMAC core (see aimc_hal_rv32.h). Bare metal,
 * machine mode, one hart. docs/firmware.md, "Firmware on the RV32 core".
 *
 * Memory ordering. RISC-V orders the hart's RAM accesses and its device (I/O) accesses only
 * where a fence says so (RVWMO; device regions may be weaker still). The chip reads and writes
 * RAM by DMA on its own, so the HAL fences as Linux's readl/writel do:
 *   write32: `fence w,o` before the store (aimc_rv_vector.S): buffers, descriptors and
 *            command-queue entries written before are visible to the chip before the doorbell
 *            or START write that makes it read them;
 *   read32:  `fence i,r` after the load: RAM the chip wrote before it raised the status just read
 *            is not read early (stale) by the loads that follow;
 *   dma_sync: `fence rw,rw`, the ordering point the DMA API promises: the core has no data cache
 *            to clean or invalidate (RAM is coherent with the chip's DMA), so ordering is all
 *            that is left to do;
 *   PLIC complete: `fence iorw,o` (aimc_rv_trap.c): the chip sees the driver's IRQ_STATUS
 *            clear before the PLIC samples its line again. */
#include "aimc_hal_rv32.h"

#include <stdlib.h>
#include <string.h>

#include "aimc_regs.h"
#include "aimc_rv_internal.h"

/* The map the kit relies on (aimc_rv32.h), checked where it is used. */
_Static_assert(AIMC_RV_CHIP_BASE % 4u == 0u && AIMC_REGS_SIZE % 4u == 0u,
               "the chip window is word-aligned");
_Static_assert(AIMC_RV_CHIP_BASE >= AIMC_RV_ROM_BASE &&
                   AIMC_RV_CHIP_BASE + AIMC_REGS_SIZE > AIMC_RV_CHIP_BASE,
               "the chip window lies above ROM and does not wrap");
_Static_assert(AIMC_RV_CHIP_BASE + AIMC_REGS_SIZE <= AIMC_RV_RAM_BASE,
               "the chip window ends below RAM");

#define DMA_ALIGN 64u /* as the in-process HAL's host memory (model/chip/host_memory.cpp) */

/* A live DMA buffer. */
typedef struct rv_buf {
  void* cpu;
  uint32_t bus_addr;
  size_t size;
  struct rv_buf* next;
} rv_buf_t;

typedef struct rv_ctx {
  rv_buf_t* bufs;
} rv_ctx_t;

static rv_ctx_t g_ctx;

/* ---- Registers ---- */
/* An offset outside the chip's window would reach another device or RAM (the window ends
 * AIMC_REGS_SIZE bytes in); a misaligned one the chip refuses. Both are bus errors, as the
 * chip's error response is for the other HALs. */
static int reg_offset_ok(uint32_t offset) {
  return offset <= AIMC_REGS_SIZE - 4u && (offset & 3u) == 0u;
}

static int op_read32(void* ctx, uint32_t offset, uint32_t* value) {
  (void)ctx;
  if (!value || !reg_offset_ok(offset)) return AIMC_HAL_BUS_ERROR;
  return aimc_rv_mmio_read32(AIMC_RV_CHIP_BASE + offset, value);
}

static int op_write32(void* ctx, uint32_t offset, uint32_t value) {
  (void)ctx;
  if (!reg_offset_ok(offset)) return AIMC_HAL_BUS_ERROR;
  return aimc_rv_mmio_write32(AIMC_RV_CHIP_BASE + offset, value);
}

/* ---- DMA buffers ---- */
static int op_dma_alloc(void* ctx, size_t size, aimc_dma_buf_t* buf) {
  rv_ctx_t* c = (rv_ctx_t*)ctx;
  rv_buf_t* rb;
  void* mem;
  size_t rounded;
  /* As the in-process HAL: no buffer to fill is refused as no memory. */
  if (!buf) return AIMC_HAL_NO_MEMORY;
  memset(buf, 0, sizeof *buf);
  /* As both HALs: a buffer of no bytes, or beyond the 32-bit bus, is refused. */
  if (size == 0) return AIMC_HAL_NO_MEMORY;
#if SIZE_MAX > 0xFFFFFFFFu /* never on RV32; kept for the rule's sake on a wider size_t */
  if (size > 0xFFFFFFFFu) return AIMC_HAL_NO_MEMORY;
#endif
  if (size > SIZE_MAX - (DMA_ALIGN - 1u)) return AIMC_HAL_NO_MEMORY;
  rounded = (size + DMA_ALIGN - 1u) / DMA_ALIGN * DMA_ALIGN;
  rb = (rv_buf_t*)malloc(sizeof *rb);
  if (!rb) return AIMC_HAL_NO_MEMORY;
  mem = aligned_alloc(DMA_ALIGN, rounded);
  if (!mem || (uintptr_t)mem < AIMC_RV_RAM_BASE) { /* the heap is in RAM; anything else is a bug */
    free(mem);
    free(rb);
    return AIMC_HAL_NO_MEMORY;
  }
  memset(mem, 0, rounded); /* zeroed, as the remote HAL's buffers */
  rb->cpu = mem;
  rb->bus_addr = (uint32_t)((uintptr_t)mem - AIMC_RV_RAM_BASE);
  rb->size = size;
  rb->next = c->bufs;
  c->bufs = rb;
  buf->cpu = mem;
  buf->bus_addr = rb->bus_addr;
  buf->size = size;
  return AIMC_HAL_OK;
}

/* The live buffer whose memory is cpu, unlinked from the list when unlink is set. */
static rv_buf_t* find_buf(rv_ctx_t* c, const void* cpu, int unlink) {
  rv_buf_t** pp;
  for (pp = &c->bufs; *pp; pp = &(*pp)->next) {
    if ((*pp)->cpu == cpu) {
      rv_buf_t* b = *pp;
      if (unlink) *pp = b->next;
      return b;
    }
  }
  return NULL;
}

static void op_dma_free(void* ctx, aimc_dma_buf_t* buf) {
  rv_buf_t* rb;
  if (!buf || !buf->cpu) return;
  rb = find_buf((rv_ctx_t*)ctx, buf->cpu, 1);
  if (!rb) return; /* not ours, or freed before: leave it alone */
  free(rb->cpu);
  free(rb);
  memset(buf, 0, sizeof *buf);
}

static int op_dma_sync(void* ctx, aimc_dma_buf_t* buf, size_t offset, size_t len, int dir) {
  rv_buf_t* rb;
  /* What the other HALs check (and an OS's DMA API would): a buffer allocated now (not freed),
   * the range inside it, a known direction. */
  if (!buf || !buf->cpu) return AIMC_HAL_BUS_ERROR;
  rb = find_buf((rv_ctx_t*)ctx, buf->cpu, 0);
  if (!rb || rb->bus_addr != buf->bus_addr || buf->size > rb->size) return AIMC_HAL_BUS_ERROR;
  if (offset > buf->size || len > buf->size - offset) return AIMC_HAL_BUS_ERROR;
  if (dir != AIMC_DMA_TO_DEVICE && dir != AIMC_DMA_FROM_DEVICE) return AIMC_HAL_BUS_ERROR;
  __asm__ volatile("fence rw, rw" ::: "memory");
  return AIMC_HAL_OK;
}

/* ---- Interrupts ---- */
/* Chip sources the last successful wait_irq reported (claimed, not completed). */
static uint32_t g_reported;

/* Sleeps in wfi until the trap handler claims one of the chip's PLIC sources for us or the timer
 * armed here fires. The chip's lines are levels: the handler claims a source without completing
 * it (completing it while the line is high would re-pend it at once). What the previous call
 * reported is completed here, first: the driver has cleared those causes on the chip since, and
 * a line still asserted re-pends at once, so the call returns at once, as "returns at once if it
 * already is asserted" asks. A source claimed since the previous call returned (an interrupt
 * taken while the firmware was busy) is reported at once too, without sleeping. */
static int op_wait_irq(void* ctx, uint64_t timeout_ns) {
  uint32_t prev, done, s;
  uint64_t now;
  int rc;
  (void)ctx;
  if (aimc_rv_trap_depth) return AIMC_HAL_BUS_ERROR; /* from a handler it would never wake */
  aimc_rv_irq_init();
  /* Interrupts off from the test of the flags to the wfi: an interrupt in between would be
   * taken before the wfi and the wfi would sleep through it. wfi wakes on a pending interrupt
   * enabled in mie whatever mstatus.MIE says; the window after it takes it. */
  prev = aimc_rv_irq_disable();
  done = g_reported & aimc_rv_hal_claimed;
  g_reported = 0;
  aimc_rv_hal_claimed &= ~done;
  for (s = 1; s < AIMC_RV_PLIC_SOURCES; ++s)
    if (done & (1u << s)) aimc_rv_plic_complete(s);
  if (timeout_ns > AIMC_HAL_MAX_WAIT_NS) timeout_ns = AIMC_HAL_MAX_WAIT_NS; /* as the other HALs */
  aimc_rv_timer_fired = 0;
  if (!aimc_rv_hal_irq) {
    now = aimc_rv_mtime_ns();
    aimc_rv_set_mtimecmp(now > UINT64_MAX - timeout_ns ? UINT64_MAX : now + timeout_ns);
  }
  for (;;) {
    if (aimc_rv_hal_irq) {
      rc = AIMC_HAL_OK;
      break;
    }
    if (aimc_rv_timer_fired) {
      /* A chip source the PLIC holds pending but has not delivered yet is asserted too. */
      if (aimc_rv_plic_pending() & aimc_rv_hal_sources()) aimc_rv_claim_all();
      rc = aimc_rv_hal_irq ? AIMC_HAL_OK : AIMC_HAL_TIMEOUT;
      break;
    }
    aimc_rv_wfi();
    /* The window: a pending interrupt is taken right after the csrsi. */
    __asm__ volatile(AIMC_RV_ZICSR("csrsi mstatus, 8\n\tnop\n\tcsrci mstatus, 8") ::: "memory");
  }
  aimc_rv_set_mtimecmp(UINT64_MAX);
  if (rc == AIMC_HAL_OK) {
    g_reported = aimc_rv_hal_claimed;
    aimc_rv_hal_irq = 0;
  }
  aimc_rv_irq_restore(prev);
  return rc;
}

static const aimc_hal_ops_t rv32_ops = {op_read32,   op_write32,  op_dma_alloc,
                                        op_dma_free, op_dma_sync, op_wait_irq};

aimc_hal_t aimc_hal_rv32(void) {
  aimc_hal_t hal;
  aimc_rv_irq_init();
  hal.ops = &rv32_ops;
  hal.ctx = &g_ctx;
  return hal;
}
