/* mmio: register accesses per second through the core (scripts/bench_cpu.py). Writes and reads
 * back the chip's SCRATCH register N times (the last argument, default 100000): every access is a
 * TLM transaction on the chip's register socket, every read a synchronisation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "aimc_regs.h"
#include "aimc_rv32.h"

int main(int argc, char** argv) {
  const long n = argc > 1 ? atol(argv[argc - 1]) : 100000;
  volatile uint32_t* scratch = (volatile uint32_t*)(uintptr_t)(AIMC_RV_CHIP_BASE + AIMC_REG_SCRATCH);
  uint32_t bad = 0;
  long i;
  for (i = 0; i < n; ++i) {
    *scratch = (uint32_t)i;
    if (*scratch != (uint32_t)i) ++bad;
  }
  printf("%ld SCRATCH write/read pairs, %u mismatches\n", n, (unsigned)bad);
  return bad != 0;
}
