/* Compiled (not run) by ctest firmware.rv32.MemoryMap with the host compiler: the RV32 core's
 * memory map (aimc_rv32.h) agrees with the chip's register space (aimc_regs.h). A header change
 * that makes them overlap stops the compile, naming the rule. */
#include "aimc_regs.h"
#include "aimc_rv32.h"

#define END(base, size) ((unsigned long long)(base) + (unsigned long long)(size))

_Static_assert(AIMC_RV_CHIP_BASE % 4u == 0u && AIMC_REGS_SIZE % 4u == 0u,
               "the chip window is word-aligned (every register is 32-bit)");
_Static_assert(END(AIMC_RV_CHIP_BASE, AIMC_REGS_SIZE) <= AIMC_RV_RAM_BASE,
               "the chip's register window (AIMC_REGS_SIZE bytes) ends below RAM");
_Static_assert(AIMC_RV_ROM_BASE < AIMC_RV_CHIP_BASE,
               "ROM lies below the chip window (it may grow up to AIMC_RV_CHIP_BASE)");
_Static_assert(END(AIMC_RV_ROM_BASE, 1024u * 1024u) <= AIMC_RV_CHIP_BASE,
               "the core's default ROM (cpu.rom_kib 1024) fits below the chip window");
_Static_assert(END(AIMC_RV_RAM_BASE, 65536ull * 1024u) <= 0x100000000ull,
               "the core's default RAM (cpu.ram_kib 65536) fits below 4 GiB");
_Static_assert(AIMC_RV_TEST_BASE + 4u <= AIMC_RV_CLINT_BASE &&
                   AIMC_RV_CLINT_BASE + AIMC_RV_CLINT_MTIME + 8u <= AIMC_RV_PLIC_BASE &&
                   AIMC_RV_PLIC_BASE + AIMC_RV_PLIC_CLAIM + 4u <= AIMC_RV_UART_BASE &&
                   AIMC_RV_UART_BASE + AIMC_RV_UART_LSR + 1u <= AIMC_RV_ROM_BASE,
               "test finisher, CLINT, PLIC and UART lie in that order below ROM, apart");
_Static_assert(AIMC_RV_IRQ_CHIP_FIRST >= 1u &&
                   AIMC_RV_IRQ_CHIP_FIRST + AIMC_RV_IRQ_CHIP_COUNT <= AIMC_RV_PLIC_SOURCES,
               "the chip's interrupt sources are PLIC sources (0 means none)");
_Static_assert((AIMC_IRQ_TEMP_ALARM >> (AIMC_RV_IRQ_CHIP_COUNT - 1u)) == 1u,
               "one PLIC source per IRQ_STATUS bit: the highest bit (TEMP_ALARM) is the last");

int aimc_rv32_map_check(void);
int aimc_rv32_map_check(void) { return 0; }
