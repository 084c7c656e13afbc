/* aimc_rv_trap.c: trap handling of the RV32 firmware kit: the C side of the trap vector
 * (aimc_rv_vector.S), the PLIC and CLINT, interrupt handlers of ISR-driven firmware, and the
 * exception report. docs/firmware.md, "Firmware on the RV32 core". */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "aimc_rv_internal.h"

_Static_assert(sizeof(aimc_rv_trap_frame_t) == 18 * 4, "aimc_rv_vector.S stores 18 words");
_Static_assert(AIMC_RV_IRQ_CHIP_FIRST >= 1 &&
                   AIMC_RV_IRQ_CHIP_FIRST + AIMC_RV_IRQ_CHIP_COUNT <= AIMC_RV_PLIC_SOURCES,
               "the chip's sources fit the PLIC (source 0 means none)");
_Static_assert(AIMC_RV_PLIC_SOURCES <= 32, "one enable and one pending word");

volatile uint32_t aimc_rv_hal_claimed;
volatile uint32_t aimc_rv_hal_irq;
volatile uint32_t aimc_rv_timer_fired;
volatile uint32_t aimc_rv_trap_depth;

typedef struct {
  aimc_rv_irq_handler_t fn;
  void* ctx;
} irq_route_t;
static irq_route_t g_routes[AIMC_RV_PLIC_SOURCES];
static int g_irq_ready;

/* ---- CSRs ---- */
static inline uint32_t csr_mcause(void) {
  uint32_t v;
  __asm__ volatile(AIMC_RV_ZICSR("csrr %0, mcause") : "=r"(v));
  return v;
}
static inline uint32_t csr_mtval(void) {
  uint32_t v;
  __asm__ volatile(AIMC_RV_ZICSR("csrr %0, mtval") : "=r"(v));
  return v;
}

/* The trap vector goes in before main (and before the firmware's own constructors): picolibc's
 * crt0 installs its own, which prints registers and exits with 1. */
__attribute__((constructor(101))) static void install_trap_vector(void) {
  __asm__ volatile(AIMC_RV_ZICSR("csrw mtvec, %0") ::"r"(aimc_rv_trap_vector) : "memory");
}

/* ---- CLINT ---- */
uint64_t aimc_rv_mtime_ns(void) {
  volatile uint32_t* lo = rv_reg(AIMC_RV_CLINT_BASE + AIMC_RV_CLINT_MTIME);
  volatile uint32_t* hi = lo + 1;
  uint32_t h, l;
  do { /* a carry between the two halves: read again */
    h = *hi;
    l = *lo;
  } while (*hi != h);
  return (uint64_t)h << 32 | l;
}

void aimc_rv_set_mtimecmp(uint64_t when_ns) {
  volatile uint32_t* lo = rv_reg(AIMC_RV_CLINT_BASE + AIMC_RV_CLINT_MTIMECMP);
  volatile uint32_t* hi = lo + 1;
  /* The 32-bit sequence of the privileged specification: the low word at its maximum first, so
   * that no intermediate value lies below both the old and the new compare value. */
  *lo = 0xFFFFFFFFu;
  *hi = (uint32_t)(when_ns >> 32);
  *lo = (uint32_t)when_ns;
}

/* ---- PLIC ---- */
static uint32_t plic_claim(void) {
  const uint32_t source = *rv_reg(AIMC_RV_PLIC_BASE + AIMC_RV_PLIC_CLAIM);
  __asm__ volatile("fence i, r" ::: "memory");
  return source;
}

void aimc_rv_plic_complete(uint32_t source) {
  /* After every earlier access, device ones included: the firmware's write that cleared the cause
   * on the chip (IRQ_STATUS) reaches the chip before the gateway samples the line again. */
  __asm__ volatile("fence iorw, o" ::: "memory");
  *rv_reg(AIMC_RV_PLIC_BASE + AIMC_RV_PLIC_CLAIM) = source;
}

uint32_t aimc_rv_plic_pending(void) {
  return *rv_reg(AIMC_RV_PLIC_BASE + AIMC_RV_PLIC_PENDING);
}

static void plic_route(uint32_t source, int enabled) {
  volatile uint32_t* enable = rv_reg(AIMC_RV_PLIC_BASE + AIMC_RV_PLIC_ENABLE);
  __asm__ volatile("fence w, o" ::: "memory");
  *rv_reg(AIMC_RV_PLIC_BASE + AIMC_RV_PLIC_PRIORITY + 4u * source) = enabled ? 1u : 0u;
  if (enabled)
    *enable |= 1u << source;
  else
    *enable &= ~(1u << source);
}

void aimc_rv_irq_init(void) {
  uint32_t s, mie_bits = RV_MIE_MEIE | RV_MIE_MTIE;
  if (g_irq_ready) return;
  g_irq_ready = 1;
  aimc_rv_set_mtimecmp(UINT64_MAX);
  for (s = AIMC_RV_IRQ_CHIP_FIRST; s < AIMC_RV_IRQ_CHIP_FIRST + AIMC_RV_IRQ_CHIP_COUNT; ++s)
    plic_route(s, 1);
  *rv_reg(AIMC_RV_PLIC_BASE + AIMC_RV_PLIC_THRESHOLD) = 0u;
  __asm__ volatile(AIMC_RV_ZICSR("csrs mie, %0") ::"r"(mie_bits) : "memory");
  __asm__ volatile(AIMC_RV_ZICSR("csrsi mstatus, 8") ::: "memory");
}

uint32_t aimc_rv_hal_sources(void) {
  uint32_t mask = 0, s;
  for (s = AIMC_RV_IRQ_CHIP_FIRST; s < AIMC_RV_IRQ_CHIP_FIRST + AIMC_RV_IRQ_CHIP_COUNT; ++s)
    if (!g_routes[s].fn) mask |= 1u << s;
  return mask;
}

int aimc_rv_set_irq_handler(uint32_t source, aimc_rv_irq_handler_t fn, void* ctx) {
  uint32_t prev;
  int chip;
  if (source == 0 || source >= AIMC_RV_PLIC_SOURCES) return -1;
  chip = (RV_CHIP_SOURCES >> source & 1u) != 0;
  aimc_rv_irq_init();
  prev = aimc_rv_irq_disable();
  g_routes[source].fn = fn;
  g_routes[source].ctx = ctx;
  if (aimc_rv_hal_claimed & (1u << source)) { /* wait_irq's claim: give it back to the PLIC */
    aimc_rv_hal_claimed &= ~(1u << source);
    aimc_rv_plic_complete(source);
  }
  plic_route(source, fn != NULL || chip);
  aimc_rv_irq_restore(prev);
  return 0;
}

void aimc_rv_claim_all(void) {
  uint32_t n;
  /* Bounded: a handler that leaves its level source asserted gets it again on the next trap,
   * after the interrupted program made progress, instead of here forever. */
  for (n = 0; n < AIMC_RV_PLIC_SOURCES; ++n) {
    const uint32_t source = plic_claim();
    if (source == 0) return;
    if (source >= AIMC_RV_PLIC_SOURCES) { /* not a source of this PLIC: hand it back */
      aimc_rv_plic_complete(source);
    } else if (g_routes[source].fn) {
      g_routes[source].fn(source, g_routes[source].ctx);
      aimc_rv_plic_complete(source);
    } else if (RV_CHIP_SOURCES >> source & 1u) {
      /* A chip line is a level the driver clears on the chip after wait_irq returns: completing
       * the claim now would re-pend it at once. wait_irq completes it on its next call. */
      aimc_rv_hal_claimed |= 1u << source;
      aimc_rv_hal_irq = 1;
    } else {
      aimc_rv_plic_complete(source); /* no one's: drop it */
    }
  }
}

/* ---- Exceptions ---- */
static const char* exception_name(uint32_t mcause) {
  static const char* const names[] = {
      "instruction address misaligned", "instruction access fault", "illegal instruction",
      "breakpoint", "load address misaligned", "load access fault",
      "store/AMO address misaligned", "store/AMO access fault", "environment call from U-mode",
      "environment call from S-mode", "reserved", "environment call from M-mode",
      "instruction page fault", "load page fault", "reserved", "store/AMO page fault"};
  return mcause < sizeof names / sizeof names[0] ? names[mcause] : "unknown";
}

/* The length of the instruction at pc: 2 for a compressed one, else 4. */
static uint32_t insn_length(uint32_t pc) {
  return (*(const volatile uint16_t*)pc & 3u) == 3u ? 4u : 2u;
}

/* The exception being reported, for a fault that comes while it is. */
static volatile uint32_t g_fault_mcause, g_fault_mepc, g_fault_mtval;
static volatile int g_reporting;

static void put_hex(char* at, uint32_t v) {
  static const char hex[] = "0123456789abcdef";
  int i;
  for (i = 0; i < 8; ++i) at[i] = hex[(v >> (28 - 4 * i)) & 15u];
}

/* A fault while a fault is being reported (stdio itself faulting, or no semihosting on the host
 * and its ebreak trapping): the first fault goes straight to the UART and the run ends through
 * the test finisher, which need nothing else. */
static void fault_in_fault(uint32_t mcause, uint32_t mepc) {
  char line[] = "aimc_rv: exception: mcause 0x________ at mepc 0x________, mtval 0x________ "
                "(and mcause 0x________ at 0x________ while reporting it)\n";
  const char* p;
  put_hex(line + 29, g_fault_mcause);
  put_hex(line + 48, g_fault_mepc);
  put_hex(line + 66, g_fault_mtval);
  put_hex(line + 89, mcause);
  put_hex(line + 103, mepc);
  for (p = line; *p; ++p) *(volatile uint8_t*)(AIMC_RV_UART_BASE + AIMC_RV_UART_THR) = (uint8_t)*p;
  *rv_reg(AIMC_RV_TEST_BASE) = (uint32_t)AIMC_RV_EXIT_FAULT << 16 | AIMC_RV_TEST_FAIL;
  for (;;) aimc_rv_wfi();
}

__attribute__((weak)) void aimc_rv_on_exception(aimc_rv_trap_frame_t* frame, uint32_t mcause,
                                                uint32_t mtval) {
  if (g_reporting) fault_in_fault(mcause, frame->mepc);
  g_reporting = 1;
  g_fault_mcause = mcause;
  g_fault_mepc = frame->mepc;
  g_fault_mtval = mtval;
  aimc_rv_stdio_flush();
  fprintf(stderr,
          "aimc_rv: exception: %s (mcause %lu) at mepc 0x%08lx, mtval 0x%08lx (ra 0x%08lx)\n",
          exception_name(mcause), (unsigned long)mcause, (unsigned long)frame->mepc,
          (unsigned long)mtval, (unsigned long)frame->ra);
  aimc_rv_stdio_flush();
  _exit(AIMC_RV_EXIT_FAULT);
}

static void exception(aimc_rv_trap_frame_t* frame, uint32_t mcause) {
  const uint32_t mtval = csr_mtval();
  const int load_fault = mcause == 4u || mcause == 5u;
  const int store_fault = mcause == 6u || mcause == 7u;
  /* A bus error (or misaligned access) of the HAL's register access: the HAL call returns
   * AIMC_HAL_BUS_ERROR, as the in-process and remote HALs do for an error response. */
  if ((load_fault && frame->mepc == (uint32_t)aimc_rv_mmio_load_insn) ||
      (store_fault && frame->mepc == (uint32_t)aimc_rv_mmio_store_insn)) {
    frame->a0 = (uint32_t)AIMC_HAL_BUS_ERROR;
    frame->mepc += insn_length(frame->mepc);
    return;
  }
  aimc_rv_on_exception(frame, mcause, mtval);
}

void aimc_rv_trap_dispatch(aimc_rv_trap_frame_t* frame);
void aimc_rv_trap_dispatch(aimc_rv_trap_frame_t* frame) {
  const uint32_t mcause = csr_mcause();
  ++aimc_rv_trap_depth;
  if (!(mcause & RV_MCAUSE_INTERRUPT)) {
    exception(frame, mcause);
  } else {
    switch (mcause & ~RV_MCAUSE_INTERRUPT) {
      case RV_IRQ_M_EXT:
        aimc_rv_claim_all();
        break;
      case RV_IRQ_M_TIMER: /* one shot: disarm (MTIP is a level while mtime >= mtimecmp) */
        aimc_rv_set_mtimecmp(UINT64_MAX);
        aimc_rv_timer_fired = 1;
        break;
      case RV_IRQ_M_SOFT: /* never enabled by the kit; clear it should something raise it */
        *rv_reg(AIMC_RV_CLINT_BASE + AIMC_RV_CLINT_MSIP) = 0u;
        break;
      default:
        break;
    }
  }
  --aimc_rv_trap_depth;
}
