/* aimc_rv_vector.S: the machine-mode trap vector of the RV32 firmware kit and the HAL's two MMIO
 * access instructions (docs/firmware.md, "Firmware on the RV32 core").
 *
 * The vector saves what the C calling convention lets a callee clobber (ra, t0-t6, a0-a7) plus
 * mepc and mstatus, calls aimc_rv_trap_dispatch(frame) on the interrupted stack, and restores
 * them before mret. mepc and mstatus are restored from the frame so that a trap taken inside the
 * dispatcher (an exception in an interrupt handler, a bus error the HAL resumes) does not lose
 * the outer trap's return address or its mstatus.MPIE. mtvec holds its address in direct mode
 * (the constructor in aimc_rv_trap.c installs it before main). */

  .option arch, +zicsr /* csrr/csrw: not named by -march=rv32imac since the 20191213 ISA spec */

#define FRAME_BYTES 80 /* 18 words, rounded up to the 16-byte stack alignment of the ilp32 ABI */

  .section .text.aimc_rv_trap_vector, "ax", @progbits
  .balign 4 /* mtvec.BASE: the low two bits are the mode (0: direct) */
  .globl aimc_rv_trap_vector
  .type aimc_rv_trap_vector, @function
aimc_rv_trap_vector:
  addi sp, sp, -FRAME_BYTES
  sw ra, 0(sp)
  sw t0, 4(sp)
  sw t1, 8(sp)
  sw t2, 12(sp)
  sw a0, 16(sp)
  sw a1, 20(sp)
  sw a2, 24(sp)
  sw a3, 28(sp)
  sw a4, 32(sp)
  sw a5, 36(sp)
  sw a6, 40(sp)
  sw a7, 44(sp)
  sw t3, 48(sp)
  sw t4, 52(sp)
  sw t5, 56(sp)
  sw t6, 60(sp)
  csrr t0, mepc
  sw t0, 64(sp)
  csrr t0, mstatus
  sw t0, 68(sp)
  mv a0, sp
  call aimc_rv_trap_dispatch
  lw t0, 64(sp)
  csrw mepc, t0
  lw t0, 68(sp)
  csrw mstatus, t0
  lw ra, 0(sp)
  lw t0, 4(sp)
  lw t1, 8(sp)
  lw t2, 12(sp)
  lw a0, 16(sp)
  lw a1, 20(sp)
  lw a2, 24(sp)
  lw a3, 28(sp)
  lw a4, 32(sp)
  lw a5, 36(sp)
  lw a6, 40(sp)
  lw a7, 44(sp)
  lw t3, 48(sp)
  lw t4, 52(sp)
  lw t5, 56(sp)
  lw t6, 60(sp)
  addi sp, sp, FRAME_BYTES
  mret
  .size aimc_rv_trap_vector, . - aimc_rv_trap_vector

/* int aimc_rv_mmio_read32(uint32_t addr, uint32_t* value)
 * Loads the 32-bit register at addr into *value; returns 0 (AIMC_HAL_OK). When the load faults
 * (the chip answered with a bus error), the trap handler sets a0 to AIMC_HAL_BUS_ERROR and
 * resumes after aimc_rv_mmio_load_insn; *value is then left alone.
 * `fence i,r` after the load (Linux's readl): RAM reads that follow (a DMA buffer, a
 * command-queue entry the chip wrote before it raised the status just read) are not performed
 * before the device read, so they see what the device had written. */
  .section .text.aimc_rv_mmio_read32, "ax", @progbits
  .balign 4
  .globl aimc_rv_mmio_read32
  .type aimc_rv_mmio_read32, @function
aimc_rv_mmio_read32:
  mv t0, a0
  li a0, 0
  .globl aimc_rv_mmio_load_insn
aimc_rv_mmio_load_insn:
  lw t1, 0(t0)
  fence i, r
  bnez a0, 1f
  sw t1, 0(a1)
1:
  ret
  .size aimc_rv_mmio_read32, . - aimc_rv_mmio_read32

/* int aimc_rv_mmio_write32(uint32_t addr, uint32_t value)
 * Stores value to the 32-bit register at addr; returns 0, or AIMC_HAL_BUS_ERROR when the store
 * faults (resumed by the trap handler as for the load).
 * `fence w,o` before the store (Linux's writel): every earlier RAM write (a DMA buffer, a
 * descriptor, a command-queue entry) is visible before the device sees the register write that
 * may start a transfer reading them. */
  .section .text.aimc_rv_mmio_write32, "ax", @progbits
  .balign 4
  .globl aimc_rv_mmio_write32
  .type aimc_rv_mmio_write32, @function
aimc_rv_mmio_write32:
  fence w, o
  mv t0, a0
  li a0, 0
  .globl aimc_rv_mmio_store_insn
aimc_rv_mmio_store_insn:
  sw a1, 0(t0)
  ret
  .size aimc_rv_mmio_write32, . - aimc_rv_mmio_write32
