/* gdb_fw: the test firmware of tests/cpu/gdb_test.py (the RV32 core's GDB stub and its
 * instruction accounting). Built for the core with picolibc's semihosting crt0.
 *
 *   gdb_fw [MODE [EXIT_CODE]]   (picolibc's semihosting crt0 puts the ELF's path, the first word of
 *                                the VP's command line, in argv[1]: the arguments follow it)
 *     plain    (default) reads the chip's ID, computes a checksum, stores it, prints both
 *     spin     loops until a debugger sets `release` (the Ctrl-C test), then as plain
 *     timer    arms the machine timer already expired with interrupts on, between two counted
 *              increments: each must run once and the interrupt be taken once (exit 1 if not)
 *     csr-first, csr-last, csr-first-quiet, csr-last-quiet
 *              an expired timer and 32 counted increments; mstatus.MIE set after the timer
 *              became pending (the interrupt is taken after the CSR write, mid-block: csr-last)
 *              or before (taken at the next block boundary: csr-first); -quiet: the same code
 *              with the timer far away (no interrupt). Exit 1 unless each increment ran once and
 *              the interrupt was taken once (never with -quiet)
 *     fault    loads from an unmapped address with no trap handler (mtvec 0): the run ends on the
 *              fault
 *   Exits with EXIT_CODE (default 0). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aimc_regs.h"
#include "aimc_rv32.h"

volatile uint32_t watched;   /* the watchpoint test's target */
volatile uint32_t release;   /* the spin mode waits for a debugger to set it */
volatile uint32_t ticks;     /* timer interrupts taken */

/* -march=rv32imac (picolibc's multilib) does not name Zicsr: say it where CSRs are used. */
#define CSR(insn) ".option push\n\t.option arch, +zicsr\n\t" insn "\n\t.option pop"
#define CHIP(off) (*(volatile uint32_t*)(AIMC_RV_CHIP_BASE + (off)))
#define CLINT(off) (*(volatile uint32_t*)(AIMC_RV_CLINT_BASE + (off)))

__attribute__((noinline)) uint32_t checksum(uint32_t n) {
  uint32_t s = 0;
  for (uint32_t i = 0; i < n; ++i) s = s * 31u + i;
  return s;
}

__attribute__((noinline)) void touch(uint32_t v) { watched = v; }

__attribute__((interrupt("machine"), aligned(4))) void timer_handler(void) {
  ++ticks;
  CLINT(AIMC_RV_CLINT_MTIMECMP + 4) = 0xFFFFFFFFu; /* far away again */
  CLINT(AIMC_RV_CLINT_MTIMECMP) = 0xFFFFFFFFu;
}

static int timer_mode(void) {
  uint32_t x = 0;
  volatile uint32_t* hi = &CLINT(AIMC_RV_CLINT_MTIMECMP + 4);
  volatile uint32_t* lo = &CLINT(AIMC_RV_CLINT_MTIMECMP);
  *lo = 0xFFFFFFFFu;
  __asm__ volatile(CSR("csrw mtvec, %0") ::"r"((uint32_t)(uintptr_t)&timer_handler));
  __asm__ volatile(CSR("csrs mie, %0") ::"r"(1u << 7));    /* MTIE */
  __asm__ volatile(CSR("csrs mstatus, %0") ::"r"(1u << 3)); /* MIE */
  /* In one basic block: the high word first (still far away), then the low word makes the
   * timer pending at once. Each increment runs once, and the interrupt is taken once, at the
   * core's next block boundary (rv32_core.h): the spin below gives it one. */
  __asm__ volatile(
      "sw zero, 0(%[hi])\n\t"
      "addi %[x], %[x], 1\n\t"
      "sw zero, 0(%[lo])\n\t"
      "addi %[x], %[x], 1\n\t"
      : [x] "+r"(x)
      : [hi] "r"(hi), [lo] "r"(lo)
      : "memory");
  for (int i = 0; i < 1000 && !ticks; ++i) __asm__ volatile("nop");
  __asm__ volatile(CSR("csrc mstatus, %0") ::"r"(1u << 3));
  printf("timer: x %lu ticks %lu\n", (unsigned long)x, (unsigned long)ticks);
  return x == 2 && ticks == 1 ? 0 : 1;
}

/* The same instructions in two orders: the timer made pending before mstatus.MIE is set (the
 * interrupt is taken right after the CSR write, in the middle of a block) or after (taken at the
 * next block boundary). The firmware retires the same instructions either way; the core used to
 * count the rest of the interrupted block twice. */
static int csr_mode(int at_csr, int quiet) {
  uint32_t x = 0;
  volatile uint32_t* hi = &CLINT(AIMC_RV_CLINT_MTIMECMP + 4);
  volatile uint32_t* lo = &CLINT(AIMC_RV_CLINT_MTIMECMP);
  *lo = 0xFFFFFFFFu;
  *hi = quiet ? 0xFFFFFFFFu : 0; /* quiet: the store to the low word leaves it far away */
  __asm__ volatile(CSR("csrw mtvec, %0") ::"r"((uint32_t)(uintptr_t)&timer_handler));
  __asm__ volatile(CSR("csrs mie, %0") ::"r"(1u << 7)); /* MTIE */
  if (at_csr) {
    __asm__ volatile(
        "sw zero, 0(%[lo])\n\t"
        "j 1f\n"
        "1:\n\t" CSR("csrs mstatus, %[mie]") "\n\t"
        ".rept 32\n\taddi %[x], %[x], 1\n\t.endr"
        : [x] "+r"(x)
        : [lo] "r"(lo), [mie] "r"(1u << 3)
        : "memory");
  } else {
    __asm__ volatile(
        CSR("csrs mstatus, %[mie]") "\n\t"
        "sw zero, 0(%[lo])\n\t"
        "j 1f\n"
        "1:\n\t"
        ".rept 32\n\taddi %[x], %[x], 1\n\t.endr"
        : [x] "+r"(x)
        : [lo] "r"(lo), [mie] "r"(1u << 3)
        : "memory");
  }
  __asm__ volatile(CSR("csrc mstatus, %0") ::"r"(1u << 3));
  printf("csr: x %lu ticks %lu\n", (unsigned long)x, (unsigned long)ticks);
  return x == 32 && ticks == (quiet ? 0u : 1u) ? 0 : 1;
}

int main(int argc, char** argv) {
  const char* mode = argc > 2 ? argv[2] : "plain";
  const int code = argc > 3 ? atoi(argv[3]) : 0;
  if (strcmp(mode, "timer") == 0) return timer_mode() ? 1 : code;
  if (strncmp(mode, "csr-", 4) == 0) {
    const int last = strncmp(mode, "csr-last", 8) == 0, quiet = strstr(mode, "-quiet") != NULL;
    if (!last && strncmp(mode, "csr-first", 9) != 0) return 2;
    return csr_mode(last, quiet) ? 1 : code;
  }
  if (strcmp(mode, "fault") == 0) {
    printf("fault: loading from 0x30000000\n");
    __asm__ volatile(CSR("csrw mtvec, zero")); /* not picolibc's handler: the VP's fault report */
    return (int)*(volatile uint32_t*)0x30000000u;
  }
  if (strcmp(mode, "spin") == 0) {
    uint32_t spins = 0;
    while (!release) ++spins;
    printf("released after %s\n", spins > 0 ? "spinning" : "no spin");
  } else if (strcmp(mode, "plain") != 0) {
    fprintf(stderr, "gdb_fw: unknown mode '%s'\n", mode);
    return 2;
  }
  printf("id 0x%08lx\n", (unsigned long)CHIP(AIMC_REG_ID));
  const uint32_t s = checksum(1000);
  touch(s);
  printf("checksum %lu watched %lu\n", (unsigned long)s, (unsigned long)watched);
  return code;
}
