/* aimc_hal_rv32.h: the aimc HAL on the VP's RV32IMAC core (bare metal, machine mode), and the
 * interrupt services of the firmware kit in firmware_stubs/riscv/. Plain C11 with a little inline
 * assembly; the memory map is aimc_rv32.h. docs/firmware.md, "Firmware on the RV32 core".
 *
 * The kit gives a firmware built with aimc_add_firmware its main() (argv from the semihosting
 * command line, then aimc_fw_main(aimc_hal_rv32(), argc, argv)), a machine-mode trap vector,
 * stdin/stdout/stderr over semihosting, and this HAL:
 *   read32/write32  MMIO at AIMC_RV_CHIP_BASE + offset, fenced as Linux's readl/writel; an access
 *                   the chip answers with a bus error returns AIMC_HAL_BUS_ERROR (the trap handler
 *                   resumes the HAL's access instruction), as in the other HALs;
 *   dma_*           64-byte aligned, zeroed buffers from the heap in RAM; bus address = address -
 *                   AIMC_RV_RAM_BASE; the same refusals as the in-process and remote HALs;
 *   wait_irq        sleeps in wfi until the PLIC delivers a chip source or the CLINT timer fires.
 * Not reentrant: call the HAL from the main program, not from an interrupt handler. */
#ifndef AIMC_HAL_RV32_H
#define AIMC_HAL_RV32_H

#include <stdint.h>

#include "aimc_hal.h"
#include "aimc_rv32.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The HAL. The first call sets up the interrupt controller (PLIC priority 1 and enable for the
 * chip's sources, threshold 0), disarms the timer and enables machine external and timer
 * interrupts (mie.MEIE, mie.MTIE, mstatus.MIE); later calls return the same HAL. */
aimc_hal_t aimc_hal_rv32(void);

/* Exit code of a firmware stopped by an exception (mcause without the interrupt bit) that no
 * aimc_rv_on_exception override handled: the report goes to stderr first. */
#define AIMC_RV_EXIT_FAULT 3

/* ---- Interrupts of an ISR-driven firmware ---- */

/* Runs in interrupt context (mstatus.MIE clear) for PLIC source `source`. */
typedef void (*aimc_rv_irq_handler_t)(uint32_t source, void* ctx);

/* Routes PLIC source `source` (1 .. AIMC_RV_PLIC_SOURCES - 1; the chip's IRQ_STATUS bit n is
 * AIMC_RV_IRQ_CHIP_FIRST + n) to fn: the trap handler claims the source, calls fn(source, ctx)
 * and then completes the claim. The chip's lines are levels: fn must clear the cause on the chip
 * (write the bit to IRQ_STATUS), or the source interrupts again at once. fn NULL gives a chip
 * source back to the HAL's wait_irq (and disables any other source). A source with a handler no
 * longer wakes wait_irq. Sets up the interrupt controller as aimc_hal_rv32() does.
 * Returns 0, or -1 for a source out of range. */
int aimc_rv_set_irq_handler(uint32_t source, aimc_rv_irq_handler_t fn, void* ctx);

/* The registers a trap saved, in the order the vector stores them. An aimc_rv_on_exception
 * override may change them (e.g. advance mepc past the faulting instruction). */
typedef struct aimc_rv_trap_frame {
  uint32_t ra, t0, t1, t2, a0, a1, a2, a3, a4, a5, a6, a7, t3, t4, t5, t6;
  uint32_t mepc, mstatus;
} aimc_rv_trap_frame_t;

/* Weak: called for an exception the kit does not resolve itself (everything but a bus error of
 * the HAL's own register access). The default reports mcause, mepc and mtval on stderr and ends
 * the run with exit code AIMC_RV_EXIT_FAULT; an override that returns resumes at frame->mepc. */
void aimc_rv_on_exception(aimc_rv_trap_frame_t* frame, uint32_t mcause, uint32_t mtval);

/* Flushes the kit's stdout and stderr buffers (line-buffered; also flushed at exit). */
void aimc_rv_stdio_flush(void);

/* Simulated time: the CLINT's mtime, in ns (AIMC_RV_MTIME_HZ). */
uint64_t aimc_rv_mtime_ns(void);

/* A CSR instruction in inline assembly. Since the 20191213 ISA specification the CSR
 * instructions are the Zicsr extension, which -march=rv32imac (the multilib picolibc is built
 * for) does not name, so the assembler is told here, for this instruction only. */
#define AIMC_RV_ZICSR(insn) ".option push\n\t.option arch, +zicsr\n\t" insn "\n\t.option pop"

/* Clears mstatus.MIE; returns the previous mstatus.MIE bit for aimc_rv_irq_restore. */
static inline uint32_t aimc_rv_irq_disable(void) {
  uint32_t prev;
  __asm__ volatile(AIMC_RV_ZICSR("csrrci %0, mstatus, 8") : "=r"(prev)::"memory");
  return prev & 8u;
}

static inline void aimc_rv_irq_restore(uint32_t prev) {
  if (prev & 8u) __asm__ volatile(AIMC_RV_ZICSR("csrsi mstatus, 8") ::: "memory");
}

/* Sleeps until an interrupt enabled in mie is pending (also with mstatus.MIE clear). */
static inline void aimc_rv_wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

#ifdef __cplusplus
}
#endif

#endif /* AIMC_HAL_RV32_H */
