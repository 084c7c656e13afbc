/* aimc_rv32.h: the memory map of the RV32IMAC microcontroller core that sits next to the chip in
 * the virtual platform (model/cpu/, `aimc fw run FIRMWARE.elf`, docs/firmware.md "Firmware on the
 * core"). Plain C11, shared by the bare-metal firmware kit (firmware_stubs/riscv/) and the VP
 * (one definition). All registers are little-endian; the chip's are 32-bit only.
 *
 *   0x0010_0000  TEST     exit register (the layout of SiFive's test finisher, as QEMU's virt board)
 *   0x0200_0000  CLINT    machine timer and software interrupt (the SiFive CLINT layout)
 *   0x0C00_0000  PLIC     interrupt controller, one context (machine mode of hart 0)
 *   0x1000_0000  UART     transmit side of a 16550 (byte registers), to the terminal and the trace
 *   0x2000_0000  ROM      the ELF's code and read-only data (cpu.rom_kib)
 *   0x4000_0000  CHIP     the chip's register space, AIMC_REGS_SIZE bytes (aimc_regs.h offsets)
 *   0x8000_0000  RAM      data, heap, stack and DMA buffers (cpu.ram_kib). The chip's DMA engine
 *                         sees RAM at bus address (address - AIMC_RV_RAM_BASE): that is what goes
 *                         into DMA_HOST_ADDR, descriptors and command-queue entries.
 * Any other address is a bus error (a load/store access fault). */
#ifndef AIMC_RV32_H
#define AIMC_RV32_H

#define AIMC_RV_TEST_BASE 0x00100000u
#define AIMC_RV_TEST_PASS 0x5555u /* write: the run ends, exit code 0 */
#define AIMC_RV_TEST_FAIL 0x3333u /* write (code << 16) | FAIL: the run ends with exit code `code` */

#define AIMC_RV_CLINT_BASE 0x02000000u
#define AIMC_RV_CLINT_MSIP 0x0000u     /* bit 0: machine software interrupt pending */
#define AIMC_RV_CLINT_MTIMECMP 0x4000u /* 64-bit (low word first): MTIP while mtime >= mtimecmp */
#define AIMC_RV_CLINT_MTIME 0xBFF8u    /* 64-bit, read-only here: simulated time in ns */
#define AIMC_RV_MTIME_HZ 1000000000u   /* mtime counts nanoseconds of simulated time */

#define AIMC_RV_PLIC_BASE 0x0C000000u
#define AIMC_RV_PLIC_PRIORITY 0x000000u  /* + 4 * source: priority 0 (never) .. 7 */
#define AIMC_RV_PLIC_PENDING 0x001000u   /* bit per source, read-only */
#define AIMC_RV_PLIC_ENABLE 0x002000u    /* bit per source, context 0 */
#define AIMC_RV_PLIC_THRESHOLD 0x200000u /* context 0: sources at or below it do not interrupt */
#define AIMC_RV_PLIC_CLAIM 0x200004u     /* read: claim the best pending source (0: none);
                                            write the source back: complete */
#define AIMC_RV_PLIC_SOURCES 32u         /* sources 1 .. 31; 0 means "none" */
/* The chip's interrupt sources are wired one to one: IRQ_STATUS bit n (while enabled in the chip's
 * IRQ_ENABLE) is PLIC source AIMC_RV_IRQ_CHIP_FIRST + n, a level the PLIC's gateway turns into one
 * pending request until its claim is completed. */
#define AIMC_RV_IRQ_CHIP_FIRST 1u
#define AIMC_RV_IRQ_CHIP_COUNT 8u

#define AIMC_RV_UART_BASE 0x10000000u
#define AIMC_RV_UART_THR 0u /* write: transmit a byte */
#define AIMC_RV_UART_LSR 5u /* read: line status; THRE (0x20) and TEMT (0x40) always set */
#define AIMC_RV_UART_LSR_THRE 0x20u

#define AIMC_RV_ROM_BASE 0x20000000u
#define AIMC_RV_CHIP_BASE 0x40000000u
#define AIMC_RV_RAM_BASE 0x80000000u

#endif /* AIMC_RV32_H */
