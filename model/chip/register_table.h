// The one register map of the aimc host interface. This table is the single source of truth:
// the host interface builds its register bank from it, and `aimc-regs` generates the firmware
// header (firmware_stubs/include/aimc_regs.h) and the reference (docs/registers.md) from it.
// A test fails when the committed header or reference differ from what this table generates.
#pragma once

#include <cstdint>
#include <iterator>

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

#define FIELDS(array) static_cast<unsigned>(std::size(array))

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
    {"CQ_BUSY", 4, 1, "the command queue is running entries"},
};
inline constexpr Field kIrqFields[] = {
    {"INFER_DONE", 0, 1, "an inference command completed"},
    {"DMA_DONE", 1, 1, "a DMA transfer completed"},
    {"PROG_DONE", 2, 1, "a programming command completed"},
    {"ERROR", 3, 1, "an error was recorded in ERROR_CODE"},
    {"CQ_DONE", 4, 1, "a command-queue entry that asked for it completed"},
    {"PROG_YIELD", 5, 1, "a PROGRAM left cells outside the verify tolerance (PROG_UNCONVERGED)"},
    {"ADC_CLIP", 6, 1, "an inference command saturated a tile ADC (see the tiles' ADC_CLIPS)"},
    {"TEMP_ALARM", 7, 1, "the die temperature rose above TEMP_ALARM_MC"},
};
inline constexpr Field kCapsDeviceFields[] = {
    {"TYPE", 0, 8, "cell model: an AIMC_DEVICE_* code (one per device kind)"},
    {"BALANCED", 8, 1, "1: a pair holds +-level/2 around mid-range; 0: one cell per sign (unipolar)"},
    {"ERASE_ROWS", 16, 16, "word lines per erase sector (flash; 0: no sector erase)"},
};
inline constexpr Field kDmaCtrlFields[] = {
    {"DIR", 0, 1, "single transfer: 0 host memory to chip, 1 chip to host memory"},
    {"CHAIN", 1, 1, "1: run the descriptor chain at DMA_DESC_ADDR (aimc_hw.h) instead"},
};
inline constexpr Field kPerfCtrlFields[] = {
    {"RESET", 0, 1, "write 1: restart every PERF_* counter from zero"},
};
inline constexpr Field kTileStatusFields[] = {
    {"PROGRAMMED", 0, 1, "the tile holds weights"},
    {"CLIPPED", 1, 1, "an ADC clipped since TILE_FLAGS was last cleared"},
};
inline constexpr Field kTileGainFields[] = {
    {"FRAC", 0, 16, "fraction, 1/65536 units"},
    {"INT", 16, 16, "integer part"},
};
inline constexpr Field kTileFlagsFields[] = {
    {"CLIPPED", 0, 1, "an ADC clipped (write 1 to clear)"},
};

// ---- Registers (byte offsets from the register bank base; all 32-bit, 4-byte aligned) ------
inline constexpr Register kRegisters[] = {
    {"ID", 0x000, Access::ro, 0x41494D43u, "chip identification, ASCII 'AIMC'", nullptr, 0},
    {"VERSION", 0x004, Access::ro, 0x00010001u, "register map version, major << 16 | minor",
     nullptr, 0},
    {"CAPS_GRID", 0x008, Access::ro, kFromConfig, "tile arrangement", kCapsGridFields, FIELDS(kCapsGridFields)},
    {"CAPS_ARRAY", 0x00C, Access::ro, kFromConfig, "array size of every tile", kCapsArrayFields, FIELDS(kCapsArrayFields)},
    {"CAPS_BITS", 0x010, Access::ro, kFromConfig, "converter and cell precision", kCapsBitsFields, FIELDS(kCapsBitsFields)},
    {"CAPS_SRAM_BYTES", 0x014, Access::ro, kFromConfig, "activation SRAM size in bytes", nullptr,
     0},
    {"CTRL", 0x020, Access::rw, 0, "global control", kCtrlFields, FIELDS(kCtrlFields)},
    {"STATUS", 0x024, Access::ro, 0, "global status (reading it synchronizes simulated time)",
     kStatusFields, FIELDS(kStatusFields)},
    {"ERROR_CODE", 0x028, Access::w1c, 0,
     "first error since the last clear (AIMC_ERR_*); write any 1 bits to clear", nullptr, 0},
    {"ERROR_ADDR", 0x02C, Access::ro, 0, "address or argument that caused ERROR_CODE", nullptr, 0},
    {"IRQ_STATUS", 0x030, Access::w1c, 0, "pending interrupt sources (write 1 to clear)",
     kIrqFields, FIELDS(kIrqFields)},
    {"IRQ_ENABLE", 0x034, Access::rw, 0, "interrupt sources that assert the IRQ line",
     kIrqFields, FIELDS(kIrqFields)},
    {"DMA_HOST_ADDR", 0x040, Access::rw, 0, "host memory address of the DMA buffer", nullptr, 0},
    {"DMA_DEV_ADDR", 0x044, Access::rw, 0, "chip bus address", nullptr, 0},
    {"DMA_LEN", 0x048, Access::rw, 0, "bytes to move", nullptr, 0},
    {"DMA_CTRL", 0x04C, Access::rw, 0, "direction", kDmaCtrlFields, FIELDS(kDmaCtrlFields)},
    {"DMA_START", 0x050, Access::wo, 0, "write 1: start the transfer (or chain) described above",
     nullptr, 0},
    {"DMA_STATUS", 0x054, Access::ro, 0, "AIMC_STATE_* of the DMA engine", nullptr, 0},
    {"DMA_DESC_ADDR", 0x058, Access::rw, 0, "host address of the first descriptor of a chain",
     nullptr, 0},
    {"DMA_DESC_DONE", 0x05C, Access::ro, 0, "descriptors completed by the last chain", nullptr, 0},
    {"PROG_TILE", 0x060, Access::rw, 0, "tile a programming command works on", nullptr, 0},
    {"PROG_CMD", 0x064, Access::wo, 0,
     "write AIMC_PROG_*: PROGRAM the tile from the staging buffer (aimc_weights_hdr_t + levels), "
     "VERIFY it against the staging buffer, READ_CELL, or ERASE it",
     nullptr, 0},
    {"PROG_STATUS", 0x068, Access::ro, 0, "AIMC_STATE_* of the programming controller", nullptr,
     0},
    {"PROG_CELLS", 0x06C, Access::ro, 0,
     "cells programmed, verified or erased by the last command (both cells of every pair)",
     nullptr, 0},
    {"PROG_ROW", 0x070, Access::rw, 0, "READ_CELL: word line", nullptr, 0},
    {"PROG_COL", 0x074, Access::rw, 0, "READ_CELL: weight column", nullptr, 0},
    {"PROG_SIDE", 0x078, Access::rw, 0, "READ_CELL: 0 the pair's positive cell, 1 the negative",
     nullptr, 0},
    {"PROG_READ_PS", 0x07C, Access::ro, 0, "READ_CELL result: the cell's conductance in pS",
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
    {"PROG_TOLERANCE_PPM", 0x094, Access::rw, kFromConfig,
     "PROGRAM and VERIFY: absolute tolerance in ppm of g_max (see PROG_TOL_REL_PPM)", nullptr, 0},
    {"PROG_VERIFY_FAILS", 0x098, Access::ro, 0,
     "VERIFY result: cells whose conductance now (after drift, at today's temperature) is outside "
     "the tolerance",
     nullptr, 0},
    {"PERF_CTRL", 0x09C, Access::wo, 0, "performance counter control", kPerfCtrlFields, FIELDS(kPerfCtrlFields)},
    {"PERF_TIME_NS_LO", 0x0A0, Access::ro, 0, "simulated time in ns, low word", nullptr, 0},
    {"PERF_TIME_NS_HI", 0x0A4, Access::ro, 0, "simulated time in ns, high word", nullptr, 0},
    {"PERF_MVMS", 0x0A8, Access::ro, 0, "tile MVMs (one input vector on one tile)", nullptr, 0},
    {"PERF_ENERGY_NJ", 0x0AC, Access::ro, 0, "dynamic energy in nJ (saturates)", nullptr, 0},
    {"PERF_CYCLES_LO", 0x0B0, Access::ro, 0, "reference-clock cycles (CAPS_CLOCK_MHZ), low word",
     nullptr, 0},
    {"PERF_CYCLES_HI", 0x0B4, Access::ro, 0, "reference-clock cycles, high word", nullptr, 0},
    {"PERF_CONVERSIONS", 0x0B8, Access::ro, 0, "DAC and ADC conversions", nullptr, 0},
    {"PERF_BUS_BYTES", 0x0BC, Access::ro, 0, "bytes moved on the chip bus (saturates)", nullptr,
     0},
    {"CAPS_CLOCK_MHZ", 0x0C0, Access::ro, kFromConfig,
     "reference clock of the cycle counter (the digital units' clock), MHz", nullptr, 0},
    {"POWER_STATE", 0x0C4, Access::rw, 0,
     "AIMC_POWER_*: ACTIVE, IDLE, or STANDBY (tiles power-gated: no static power, commands "
     "refused with ERR_POWER_STATE); changing it while an engine is busy is refused (ERR_BUSY)",
     nullptr, 0},
    {"SCRATCH", 0x0C8, Access::rw, 0, "free for firmware (self-tests); no effect on the chip",
     nullptr, 0},
    {"CQ_BASE", 0x0D0, Access::rw, 0, "host address of the command ring (aimc_cmd_t entries)",
     nullptr, 0},
    {"CQ_ENTRIES", 0x0D4, Access::rw, 0, "entries in the ring", nullptr, 0},
    {"CQ_HEAD", 0x0D8, Access::ro, 0, "next entry the chip will run", nullptr, 0},
    {"CQ_TAIL", 0x0DC, Access::rw, 0,
     "doorbell: one past the last entry the firmware filled; the chip runs entries until head "
     "reaches it",
     nullptr, 0},
    {"CQ_STATUS", 0x0E0, Access::ro, 0, "AIMC_STATE_* of the command queue", nullptr, 0},
    {"CQ_DONE", 0x0E4, Access::ro, 0, "entries completed since reset", nullptr, 0},
    {"CAPS_DEVICE", 0x0F0, Access::ro, kFromConfig, "cell technology of the tiles",
     kCapsDeviceFields, FIELDS(kCapsDeviceFields)},
    {"PROG_TOL_REL_PPM", 0x0F4, Access::rw, kFromConfig,
     "PROGRAM and VERIFY: a cell passes when |G - G_target| <= this many ppm of G_target (or "
     "PROG_TOLERANCE_PPM of g_max, whichever is larger)",
     nullptr, 0},
    {"PROG_MAX_ITER", 0x0F8, Access::rw, kFromConfig,
     "PROGRAM: program pulses per cell before the controller gives the cell up (1..65535)", nullptr,
     0},
    {"PROG_PULSES", 0x0FC, Access::ro, 0, "program pulses applied by the last PROGRAM (saturates)",
     nullptr, 0},
    {"PROG_UNCONVERGED", 0x100, Access::ro, 0,
     "cells the last PROGRAM left outside the tolerance (stuck, worn, dead column, overshoot or "
     "out of iterations)",
     nullptr, 0},
    {"PROG_ITER_MAX", 0x104, Access::ro, 0, "most pulses one cell took in the last PROGRAM",
     nullptr, 0},
    {"TEMP_MC", 0x108, Access::ro, 0,
     "die temperature sensor, signed, in milli-degrees Celsius", nullptr, 0},
    {"TEMP_ALARM_MC", 0x10C, Access::rw, 85000,
     "IRQ TEMP_ALARM fires when the die temperature rises above this (signed, milli-degrees C; "
     "reset 85 C, the top of the characterized range in reference-chips.md section 1)",
     nullptr, 0},
};

// ---- Per-tile registers: tile t's window starts at TILE_REGS_BASE + t * TILE_REGS_STRIDE ----
// `count` > 1 makes an array of 4-byte registers (one per weight column).
struct TileRegister {
  const char* name;
  uint32_t offset;  // within the tile's window
  Access access;
  bool per_column;  // an array of array.cols registers, 4 bytes apart
  const char* description;
  const Field* fields;
  unsigned field_count;
};

inline constexpr TileRegister kTileRegisters[] = {
    {"STATUS", 0x000, Access::ro, false, "tile status", kTileStatusFields, FIELDS(kTileStatusFields)},
    {"FLAGS", 0x004, Access::w1c, false, "sticky events (write 1 to clear)", kTileFlagsFields, FIELDS(kTileFlagsFields)},
    {"ROWS_USED", 0x008, Access::ro, false, "word lines the programmed block uses", nullptr, 0},
    {"COLS_USED", 0x00C, Access::ro, false, "weight columns the programmed block uses", nullptr, 0},
    {"MVMS", 0x010, Access::ro, false, "MVMs this tile ran", nullptr, 0},
    {"ADC_CLIPS", 0x014, Access::ro, false, "ADC samples that clipped", nullptr, 0},
    {"CYCLES_MAX", 0x018, Access::ro, false,
     "most program/erase cycles any cell of the tile has seen (endurance)", nullptr, 0},
    {"WORN_CELLS", 0x01C, Access::ro, false,
     "cells past their endurance (stuck; they fail verify)", nullptr, 0},
    {"TEST", 0x020, Access::wo, false,
     "write 1: one MVM with every input at zero over all columns; the raw (untrimmed) ADC codes "
     "land in RESULT (the write takes one MVM time)",
     nullptr, 0},
    {"UNCONVERGED", 0x024, Access::ro, false,
     "cells the last PROGRAM of this tile left outside the tolerance", nullptr, 0},
    {"CAL", 0x028, Access::wo, false,
     "write 1: calibration read for drift compensation: one MVM with every used word line at full "
     "scale; the sum over used columns of |column current|, each digitized at the verify "
     "resolution, lands in CAL_NA (the write takes one MVM time)",
     nullptr, 0},
    {"CAL_NA", 0x02C, Access::ro, false, "result of the last CAL, in nA (saturates)", nullptr, 0},
    {"CAL_REF", 0x030, Access::rw, false,
     "free for firmware: CAL_NA measured right after programming (kept in checkpoints)", nullptr,
     0},
    {"GAIN", 0x034, Access::rw, false,
     "digital gain applied to every ADC code of the tile after the trims, unsigned Q16.16 "
     "(reset 1.0); drift compensation writes CAL_REF / CAL_NA here",
     kTileGainFields, FIELDS(kTileGainFields)},
    {"TRIM", 0x1000, Access::rw, true,
     "per column: signed ADC offset trim in LSB, subtracted from the column's codes", nullptr, 0},
    {"RESULT", 0x2000, Access::ro, true, "per column: signed ADC code of the last TEST", nullptr,
     0},
};

// ---- Constants shared with firmware --------------------------------------------------------
inline constexpr Constant kConstants[] = {
    // Address map of the chip bus (what DMA_DEV_ADDR and the image's dest_addr refer to).
    {"REGS_BASE", 0x00000000u, "register space as the host sees it (not on the chip bus)"},
    {"REGS_SIZE", 0x08000000u, "register space size"},
    {"TILE_REGS_BASE", 0x00100000u, "per-tile register windows (host view)"},
    {"TILE_REGS_STRIDE", 0x00004000u, "bytes between tile windows"},
    {"SEQ_MEM_BASE", 0x00010000u, "sequencer program memory"},
    {"SEQ_MEM_SIZE", 0x00100000u, "sequencer program memory size (1 MiB)"},
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
    {"ERR_BAD_DESCRIPTOR", 11, "a DMA descriptor is malformed (nothing moved)"},
    {"ERR_BAD_COMMAND", 12, "a command-queue entry or the queue setup is malformed"},
    {"ERR_POWER_STATE", 13, "command refused in the current power state"},
    {"ERR_BAD_VALUE", 14, "a value written to a register is out of range (ignored)"},
    // Programming commands (PROG_CMD).
    {"PROG_PROGRAM", 1, "program the tile from the staging buffer"},
    {"PROG_VERIFY", 2, "compare the tile with the staging buffer's targets"},
    {"PROG_READ_CELL", 3, "read one cell's conductance into PROG_READ_PS"},
    {"PROG_ERASE", 4,
     "erase the tile: flash cells to the erased (high-conductance) state, sector by sector; pcm and "
     "rram cells RESET to their lowest conductance"},
    // Cell technologies (CAPS_DEVICE.TYPE): AIMC_DEVICE_<KIND>, generated from the device kinds
    // (numerics/device_kind.h) by aimc-regs.
    // Power states (POWER_STATE).
    {"POWER_ACTIVE", 0, "everything powered"},
    {"POWER_IDLE", 1, "tiles at idle static power; commands allowed"},
    {"POWER_STANDBY", 2, "tiles power-gated (no static power, weights kept); commands refused"},
    // IRQ bits.
    {"IRQ_INFER_DONE", 1u << 0, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"IRQ_DMA_DONE", 1u << 1, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"IRQ_PROG_DONE", 1u << 2, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"IRQ_ERROR", 1u << 3, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"IRQ_CQ_DONE", 1u << 4, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"IRQ_PROG_YIELD", 1u << 5, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"IRQ_ADC_CLIP", 1u << 6, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"IRQ_TEMP_ALARM", 1u << 7, "IRQ_STATUS/IRQ_ENABLE bit"},
    {"CHIP_ID", 0x41494D43u, "value of ID"},
};

#undef FIELDS

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
