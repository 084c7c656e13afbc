/* aimc_rv_internal.h: what the RV32 kit's files share (firmware_stubs/riscv/); not for firmware.
 * Plain C11 with inline assembly for the CSRs and fences. */
#ifndef AIMC_RV_INTERNAL_H
#define AIMC_RV_INTERNAL_H

#include <stdint.h>

#include "aimc_hal_rv32.h"

/* CSR bits (RISC-V privileged specification, machine mode). */
#define RV_MSTATUS_MIE (1u << 3)
#define RV_MIE_MTIE (1u << 7)
#define RV_MIE_MEIE (1u << 11)
#define RV_MCAUSE_INTERRUPT (1u << 31)
#define RV_IRQ_M_SOFT 3u
#define RV_IRQ_M_TIMER 7u
#define RV_IRQ_M_EXT 11u

/* The chip's PLIC sources, as a mask of source numbers. */
#define RV_CHIP_SOURCES \
  (((1u << AIMC_RV_IRQ_CHIP_COUNT) - 1u) << AIMC_RV_IRQ_CHIP_FIRST)

static inline volatile uint32_t* rv_reg(uint32_t addr) { return (volatile uint32_t*)addr; }

/* The MMIO accessors of aimc_rv_vector.S, and the two instructions whose bus errors the trap
 * handler turns into an AIMC_HAL_BUS_ERROR return. */
int aimc_rv_mmio_read32(uint32_t addr, uint32_t* value);
int aimc_rv_mmio_write32(uint32_t addr, uint32_t value);
extern const char aimc_rv_mmio_load_insn[];
extern const char aimc_rv_mmio_store_insn[];
extern const char aimc_rv_trap_vector[];

/* Interrupt state shared by the trap handler (aimc_rv_trap.c) and wait_irq (aimc_hal_rv32.c).
 * Written in interrupt context, read in the main program with interrupts off. */
extern volatile uint32_t aimc_rv_hal_claimed; /* chip sources claimed for wait_irq, not completed */
extern volatile uint32_t aimc_rv_hal_irq;     /* set when such a source was claimed */
extern volatile uint32_t aimc_rv_timer_fired; /* set when mtime reached mtimecmp */
extern volatile uint32_t aimc_rv_trap_depth;  /* > 0 while the trap handler runs */

/* Sets up the PLIC, the timer and the interrupt enables once (aimc_hal_rv32.h). */
void aimc_rv_irq_init(void);
/* Sources the HAL's wait_irq waits for: the chip's, less those with a handler. */
uint32_t aimc_rv_hal_sources(void);
/* Claims every pending source and routes it (to its handler, or to wait_irq); also called from
 * wait_irq with interrupts off for a source the PLIC holds pending but has not delivered. */
void aimc_rv_claim_all(void);
void aimc_rv_plic_complete(uint32_t source);
uint32_t aimc_rv_plic_pending(void);
/* mtimecmp; UINT64_MAX disarms the timer. */
void aimc_rv_set_mtimecmp(uint64_t when_ns);

#endif /* AIMC_RV_INTERNAL_H */
