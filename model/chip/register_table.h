// The one register map of the aimc host interface. This table is the single source of truth:
// the host interface builds its register bank from it, and `aimc-regs` generates the firmware
// header (firmware_stubs/include/aimc_regs.h) and the reference (docs/registers.md) from it.
// A test fails when the committed header or reference differ from what this table generates.
#pragma once

#include <cstdint>

namespace aimc::regs {

enum class Access {
  ro,   // read-only: writes are ignored and flagged (ERROR_CODE = RO_WRITE)
  rw,   // read/write
  wo,   // write-only command register: reads return 0
  w1c,  // write 1 to clear the bits written
};

// Reset value comes from the platform configuration (capabilities), not from the table.
inline constexpr uint32_t kFromConfig = 0xFFFFFFFFu;

struct Field {
  const char* name;
  unsigned lsb;
  unsigned width;
  const char* description;
};

struct Register {
  const char* name;
  uint32_t offset;
  Access access;
  uint32_t reset;  // kFromConfig: set at elaboration from the platform config
  const char* description;
  const Field* fields;
  unsigned field_count;
};

struct Constant {
  const char* name;
  uint32_t value;
  const char* description;
};

// ---- Bit fields ---------------------------------------------------------------------------
inline constexpr Field kCapsGridFields[] = {
    {"ROWS", 0, 8, "tile grid rows"},
    {"COLS", 8, 8, "tile grid columns"},
    {"TILES", 16, 16, "tile count"},
};
inline constexpr Field kCapsArrayFields[] = {
    {"ROWS", 0, 16, "word lines (inputs) per tile"},
    {"COLS", 16, 16, "weight columns (outputs) per tile, each a differential pair"},
};
inline constexpr Field kCapsBitsFields[] = {
    {"DAC", 0, 8, "DAC bits"},
    {"ADC", 8, 8, "ADC bits"},
    {"CELL", 16, 8, "bits per cell"},
};
inline constexpr Field kCtrlFields[] = {
    {"SOFT_RESET", 0, 1, "write 1: clear engine states, IRQ_STATUS and ERROR_CODE (rejected with ERR_BUSY while an engine is busy)"},
};
inline constexpr Field kStatusFields[] = {
    {"DMA_BUSY", 0, 1, "DMA engine is moving data"},
    {"PROG_BUSY", 1, 1, "programming controller is writing cells"},
    {"SEQ_BUSY", 2, 1, "sequencer is running an inference command"},
    {"ERROR", 3, 1, "ERROR_CODE is not NONE"},
};
inline constexpr Field kIrqFields[] = {
    {"INFER_DONE", 0, 1, "an inference command completed"},
    {"DMA_DONE", 1, 1, "a DMA transfer completed"},
    {"PROG_DONE", 2, 1, "a programming command completed"},
    {"ERROR", 3, 1, "an error was recorded in ERROR_CODE"},
};
inline constexpr Field kDmaCtrlFields[] = {
    {"DIR", 0, 1, "0: host memory to chip, 1: chip to host memory"},
};

// ---- Registers (byte offsets from the register bank base; all 32-bit, 4-byte aligned) ------
inline constexpr Register kRegisters[] = {
    {"ID", 0x000, Access::ro, 0x41494D43u, "chip identification, ASCII 'AIMC'", nullptr, 0},
    {"VERSION", 0x004, Access::ro, 0x00010000u, "register map version, major << 16 | minor",
     nullptr, 0},
    {"CAPS_GRID", 0x008, Access::ro, kFromConfig, "tile arrangement", kCapsGridFields, 3},
    {"CAPS_ARRAY", 0x00C, Access::ro, kFromConfig, "array size of every tile", kCapsArrayFields, 2},
    {"CAPS_BITS", 0x010, Access::ro, kFromConfig, "converter and cell precision", kCapsBitsFields,
     3},
    {"CAPS_SRAM_BYTES", 0x014, Access::ro, kFromConfig, "activation SRAM size in bytes", nullptr,
     0},
    {"CTRL", 0x020, Access::rw, 0, "global control", kCtrlFields, 1},
    {"STATUS", 0x024, Access::ro, 0, "global status (reading it synchronizes simulated time)",
     kStatusFields, 4},
    {"ERROR_CODE", 0x028, Access::w1c, 0,
     "first error since the last clear (AIMC_ERR_*); write any 1 bits to clear", nullptr, 0},
    {"ERROR_ADDR", 0x02C, Access::ro, 0, "address or argument that caused ERROR_CODE", nullptr, 0},
    {"IRQ_STATUS", 0x030, Access::w1c, 0, "pending interrupt sources (write 1 to clear)",
     kIrqFields, 4},
    {"IRQ_ENABLE", 0x034, Access::rw, 0, "interrupt sources that assert the IRQ line",
     kIrqFields, 4},
    {"DMA_HOST_ADDR", 0x040, Access::rw, 0, "host memory address of the DMA buffer", nullptr, 0},
    {"DMA_DEV_ADDR", 0x044, Access::rw, 0, "chip bus address", nullptr, 0},
    {"DMA_LEN", 0x048, Access::rw, 0, "bytes to move", nullptr, 0},
    {"DMA_CTRL", 0x04C, Access::rw, 0, "direction", kDmaCtrlFields, 1},
    {"DMA_START", 0x050, Access::wo, 0, "write 1: start the transfer described above", nullptr, 0},
    {"DMA_STATUS", 0x054, Access::ro, 0, "AIMC_STATE_* of the DMA engine", nullptr, 0},
    {"PROG_TILE", 0x060, Access::rw, 0, "tile to program", nullptr, 0},
    {"PROG_START", 0x064, Access::wo, 0,
     "write 1: program PROG_TILE from the staging buffer (aimc_weights_hdr_t + levels)", nullptr,
     0},
    {"PROG_STATUS", 0x068, Access::ro, 0, "AIMC_STATE_* of the programming controller", nullptr,
     0},
    {"PROG_CELLS", 0x06C, Access::ro, 0, "cells written by the last programming command",
     nullptr, 0},
    {"SEQ_PROG_ADDR", 0x080, Access::rw, 0, "bus address of the layer program", nullptr, 0},
    {"SEQ_BATCH", 0x084, Access::rw, 0, "input vectors in the next inference command", nullptr,
     0},
    {"SEQ_START", 0x088, Access::wo, 0, "doorbell: write 1 to run the layer program on the batch",
     nullptr, 0},
    {"SEQ_STATUS", 0x08C, Access::ro, 0, "AIMC_STATE_* of the sequencer", nullptr, 0},
    {"SEQ_LATENCY_NS", 0x090, Access::ro, 0,
     "last command: ns from the doorbell until its first vector's output was in SRAM", nullptr,
     0},
    {"PERF_TIME_NS_LO", 0x0A0, Access::ro, 0, "simulated time in ns, low word", nullptr, 0},
    {"PERF_TIME_NS_HI", 0x0A4, Access::ro, 0, "simulated time in ns, high word", nullptr, 0},
    {"PERF_MVMS", 0x0A8, Access::ro, 0, "tile MVMs (one input vector on one tile) since reset",
     nullptr, 0},
    {"PERF_ENERGY_NJ", 0x0AC, Access::ro, 0, "dynamic energy since reset in nJ (saturates)",
     nullptr, 0},
};

// ---- Constants shared with firmware --------------------------------------------------------
inline constexpr Constant kConstants[] = {
    // Address map of the chip bus (what DMA_DEV_ADDR and the image's dest_addr refer to).
    {"REGS_BASE", 0x00000000u, "register bank (4 KiB)"},
    {"REGS_SIZE", 0x00001000u, "register bank size"},
    {"SEQ_MEM_BASE", 0x00010000u, "sequencer program memory"},
    {"SEQ_MEM_SIZE", 0x00010000u, "sequencer program memory size (64 KiB)"},
    {"STAGING_BASE", 0x01000000u, "programming controller staging buffer"},
    {"STAGING_SIZE", 0x01000000u, "staging buffer window (16 MiB)"},
    {"SRAM_BASE", 0x10000000u, "activation SRAM (size in CAPS_SRAM_BYTES)"},
    {"TILE_BASE", 0x20000000u, "tile t local memory at TILE_BASE + t * TILE_STRIDE"},
    {"TILE_STRIDE", 0x00100000u, "address stride between tiles"},
    // Engine states (DMA_STATUS, PROG_STATUS, SEQ_STATUS).
    {"STATE_IDLE", 0, "never started since reset"},
    {"STATE_BUSY", 1, "working"},
    {"STATE_DONE", 2, "last command completed"},
    {"STATE_ERROR", 3, "last command failed; see ERROR_CODE"},
    // Error codes (ERROR_CODE).
    {"ERR_NONE", 0, "no error"},
    {"ERR_UNMAPPED", 1, "access to an address where no register is"},
    {"ERR_ACCESS", 2, "access of the wrong size or alignment"},
    {"ERR_RO_WRITE", 3, "write to a read-only register (ignored)"},
    {"ERR_BUSY", 4, "command issued while the engine was busy (rejected)"},
    {"ERR_DMA_FAULT", 5, "DMA address outside memory or a bus error (nothing written)"},
    {"ERR_BAD_WEIGHTS", 6, "staging buffer does not hold a valid weight block for the tile"},
    {"ERR_BAD_PROGRAM", 7, "layer program is malformed or does not fit the platform"},
    {"ERR_BAD_BATCH", 8, "SEQ_BATCH is 0 or larger than the program's max_batch"},
    {"ERR_BAD_TILE", 9, "tile index out of range"},
    {"ERR_NOT_PROGRAMMED", 10, "the program uses a tile that holds no weights"},
    // IRQ bits.
    {"IRQ_INFER_DONE", 1u << 0, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"IRQ_DMA_DONE", 1u << 1, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"IRQ_PROG_DONE", 1u << 2, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"IRQ_ERROR", 1u << 3, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"CHIP_ID", 0x41494D43u, "value of ID"},
};

inline constexpr const Register* find_register(const char* name) {
  for (const Register& r : kRegisters) {
    const char* a = r.name;
    const char* b = name;
    while (*a && *a == *b) { ++a; ++b; }
    if (*a == *b) return &r;
  }
  return nullptr;
}

inline constexpr uint32_t offset_of(const char* name) {
  const Register* r = find_register(name);
  return r ? r->offset : 0xFFFFFFFFu;
}

inline constexpr uint32_t constant(const char* name) {
  for (const Constant& c : kConstants) {
    const char* a = c.name;
    const char* b = name;
    while (*a && *a == *b) { ++a; ++b; }
    if (*a == *b) return c.value;
  }
  return 0xFFFFFFFFu;
}

}  // namespace aimc::regs
