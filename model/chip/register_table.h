// The one register map of the aimc host interface. This table is the single source of truth:
// the host interface builds its register bank from it, and `aimc-regs` generates the firmware
// header (firmware_stubs/include/aimc_regs.h) and the reference (docs/registers.md) from it.
// A test fails when the committed header or reference differ from what this table generates.
//
// Each register is one line of AIMC_REGISTER_LIST (or AIMC_TILE_REGISTER_LIST). The same line
// makes its entry in kRegisters (what the bank and the generator read) and its enumerator in
// regs::Reg (regs::TileReg), the handle the model binds behaviour to: a misspelt or removed
// register is a compile error, and an index can never point at the wrong entry.
// How to add a register: docs/firmware.md, "Adding a register".
#pragma once

#include <cstddef>
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

// A register's bit fields: fields(kSomeFields) or kNoFields in the lists below.
struct FieldList {
  const Field* data;
  unsigned count;
};
inline constexpr FieldList kNoFields{nullptr, 0};
template <size_t N>
constexpr FieldList fields(const Field (&array)[N]) {
  return {array, static_cast<unsigned>(N)};
}

struct Register {
  const char* name;
  uint32_t offset;
  Access access;
  uint32_t reset;  // kFromConfig: set at elaboration from the platform config
  const char* description;
  const Field* fields;
  unsigned field_count;
};

// Per-tile registers: one, or an array of array.cols registers 4 bytes apart (one per column).
enum class Span { one, per_column };

struct TileRegister {
  const char* name;
  uint32_t offset;  // within the tile's window
  Access access;
  bool per_column;  // an array of array.cols registers, 4 bytes apart
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
    {"SOFT_RESET", 0, 1, "write 1: clear engine states, IRQ_STATUS and ERROR_CODE, power state ACTIVE (rejected with ERR_BUSY while an engine is busy)"},
    {"FULL_RESET", 1, 1,
     "write 1: every register to its reset value: SOFT_RESET plus IRQ_ENABLE, DMA, command-queue, "
     "programming and sequencer setup, power ACTIVE, TEMP_ALARM_MC, performance counters restarted, and "
     "each tile's GAIN, TRIMs, CAL_REF and CLIPPED flag; the cells keep their weights (rejected with "
     "ERR_BUSY while an engine is busy)"},
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
// R(NAME, offset, access, reset, description, fields); in ascending offset order.
#define AIMC_REGISTER_LIST(R) \
  R(ID, 0x000, ro, 0x41494D43u, "chip identification, ASCII 'AIMC'", kNoFields) \
  R(VERSION, 0x004, ro, 0x00010001u, "register map version, major << 16 | minor", kNoFields) \
  R(CAPS_GRID, 0x008, ro, kFromConfig, "tile arrangement", fields(kCapsGridFields)) \
  R(CAPS_ARRAY, 0x00C, ro, kFromConfig, "array size of every tile", fields(kCapsArrayFields)) \
  R(CAPS_BITS, 0x010, ro, kFromConfig, "converter and cell precision", fields(kCapsBitsFields)) \
  R(CAPS_SRAM_BYTES, 0x014, ro, kFromConfig, "activation SRAM size in bytes", kNoFields) \
  R(CTRL, 0x020, rw, 0, "global control", fields(kCtrlFields)) \
  R(STATUS, 0x024, ro, 0, \
    "global status (reading it synchronizes simulated time)", fields(kStatusFields)) \
  R(ERROR_CODE, 0x028, w1c, 0, \
    "first error since the last clear (AIMC_ERR_*); write any 1 bits to clear", kNoFields) \
  R(ERROR_ADDR, 0x02C, ro, 0, "address or argument that caused ERROR_CODE", kNoFields) \
  R(IRQ_STATUS, 0x030, w1c, 0, "pending interrupt sources (write 1 to clear)", fields(kIrqFields)) \
  R(IRQ_ENABLE, 0x034, rw, 0, "interrupt sources that assert the IRQ line", fields(kIrqFields)) \
  R(DMA_HOST_ADDR, 0x040, rw, 0, "host memory address of the DMA buffer", kNoFields) \
  R(DMA_DEV_ADDR, 0x044, rw, 0, "chip bus address", kNoFields) \
  R(DMA_LEN, 0x048, rw, 0, "bytes to move", kNoFields) \
  R(DMA_CTRL, 0x04C, rw, 0, "direction", fields(kDmaCtrlFields)) \
  R(DMA_START, 0x050, wo, 0, "write 1: start the transfer (or chain) described above", kNoFields) \
  R(DMA_STATUS, 0x054, ro, 0, "AIMC_STATE_* of the DMA engine", kNoFields) \
  R(DMA_DESC_ADDR, 0x058, rw, 0, "host address of the first descriptor of a chain", kNoFields) \
  R(DMA_DESC_DONE, 0x05C, ro, 0, "descriptors completed by the last chain", kNoFields) \
  R(PROG_TILE, 0x060, rw, 0, "tile a programming command works on", kNoFields) \
  R(PROG_CMD, 0x064, wo, 0, \
    "write AIMC_PROG_*: PROGRAM the tile from the staging buffer (aimc_weights_hdr_t + levels), " \
    "VERIFY it against the staging buffer, READ_CELL, or ERASE it", kNoFields) \
  R(PROG_STATUS, 0x068, ro, 0, "AIMC_STATE_* of the programming controller", kNoFields) \
  R(PROG_CELLS, 0x06C, ro, 0, \
    "cells programmed, verified or erased by the last command (both cells of every pair)", \
    kNoFields) \
  R(PROG_ROW, 0x070, rw, 0, "READ_CELL: word line", kNoFields) \
  R(PROG_COL, 0x074, rw, 0, "READ_CELL: weight column", kNoFields) \
  R(PROG_SIDE, 0x078, rw, 0, "READ_CELL: 0 the pair's positive cell, 1 the negative", kNoFields) \
  R(PROG_READ_PS, 0x07C, ro, 0, "READ_CELL result: the cell's conductance in pS", kNoFields) \
  R(SEQ_PROG_ADDR, 0x080, rw, 0, "bus address of the layer program", kNoFields) \
  R(SEQ_BATCH, 0x084, rw, 0, "input vectors in the next inference command", kNoFields) \
  R(SEQ_START, 0x088, wo, 0, "doorbell: write 1 to run the layer program on the batch", kNoFields) \
  R(SEQ_STATUS, 0x08C, ro, 0, "AIMC_STATE_* of the sequencer", kNoFields) \
  R(SEQ_LATENCY_NS, 0x090, ro, 0, \
    "last command: ns from the doorbell until its first vector's output was in SRAM", kNoFields) \
  R(PROG_TOLERANCE_PPM, 0x094, rw, kFromConfig, \
    "PROGRAM and VERIFY: absolute tolerance in ppm of g_max (see PROG_TOL_REL_PPM)", kNoFields) \
  R(PROG_VERIFY_FAILS, 0x098, ro, 0, \
    "VERIFY result: cells whose conductance now (after drift, at today's temperature) is outside " \
    "the tolerance", kNoFields) \
  R(PERF_CTRL, 0x09C, wo, 0, "performance counter control", fields(kPerfCtrlFields)) \
  R(PERF_TIME_NS_LO, 0x0A0, ro, 0, "simulated time in ns, low word", kNoFields) \
  R(PERF_TIME_NS_HI, 0x0A4, ro, 0, "simulated time in ns, high word", kNoFields) \
  R(PERF_MVMS, 0x0A8, ro, 0, "tile MVMs (one input vector on one tile)", kNoFields) \
  R(PERF_ENERGY_NJ, 0x0AC, ro, 0, "dynamic energy in nJ (saturates)", kNoFields) \
  R(PERF_CYCLES_LO, 0x0B0, ro, 0, "reference-clock cycles (CAPS_CLOCK_MHZ), low word", kNoFields) \
  R(PERF_CYCLES_HI, 0x0B4, ro, 0, "reference-clock cycles, high word", kNoFields) \
  R(PERF_CONVERSIONS, 0x0B8, ro, 0, "DAC and ADC conversions", kNoFields) \
  R(PERF_BUS_BYTES, 0x0BC, ro, 0, "bytes moved on the chip bus (saturates)", kNoFields) \
  R(CAPS_CLOCK_MHZ, 0x0C0, ro, kFromConfig, \
    "reference clock of the cycle counter (the digital units' clock), MHz", kNoFields) \
  R(POWER_STATE, 0x0C4, rw, 0, \
    "AIMC_POWER_*: ACTIVE, IDLE, or STANDBY (tiles power-gated: no static power, commands " \
    "refused with ERR_POWER_STATE; SRAM banks as the platform's sram.standby says: unless " \
    "powered, a DMA to the SRAM faults); changing it while an engine is busy is refused (ERR_BUSY)", \
    kNoFields) \
  R(SCRATCH, 0x0C8, rw, 0, "free for firmware (self-tests); no effect on the chip", kNoFields) \
  R(CQ_BASE, 0x0D0, rw, 0, "host address of the command ring (aimc_cmd_t entries)", kNoFields) \
  R(CQ_ENTRIES, 0x0D4, rw, 0, "entries in the ring", kNoFields) \
  R(CQ_HEAD, 0x0D8, ro, 0, "next entry the chip will run", kNoFields) \
  R(CQ_TAIL, 0x0DC, rw, 0, \
    "doorbell: one past the last entry the firmware filled; the chip runs entries until head " \
    "reaches it", kNoFields) \
  R(CQ_STATUS, 0x0E0, ro, 0, "AIMC_STATE_* of the command queue", kNoFields) \
  R(CQ_DONE, 0x0E4, ro, 0, "entries completed since reset", kNoFields) \
  R(CAPS_DEVICE, 0x0F0, ro, kFromConfig, \
    "cell technology of the tiles", fields(kCapsDeviceFields)) \
  R(PROG_TOL_REL_PPM, 0x0F4, rw, kFromConfig, \
    "PROGRAM and VERIFY: a cell passes when |G - G_target| <= this many ppm of G_target (or " \
    "PROG_TOLERANCE_PPM of g_max, whichever is larger)", kNoFields) \
  R(PROG_MAX_ITER, 0x0F8, rw, kFromConfig, \
    "PROGRAM: program pulses per cell before the controller gives the cell up (1..65535)", \
    kNoFields) \
  R(PROG_PULSES, 0x0FC, ro, 0, \
    "program pulses applied by the last PROGRAM (saturates)", kNoFields) \
  R(PROG_UNCONVERGED, 0x100, ro, 0, \
    "cells the last PROGRAM left outside the tolerance (stuck, worn, dead column, overshoot or " \
    "out of iterations)", kNoFields) \
  R(PROG_ITER_MAX, 0x104, ro, 0, "most pulses one cell took in the last PROGRAM", kNoFields) \
  R(TEMP_MC, 0x108, ro, 0, "die temperature sensor, signed, in milli-degrees Celsius", kNoFields) \
  R(TEMP_ALARM_MC, 0x10C, rw, 85000, \
    "IRQ TEMP_ALARM fires when the die temperature rises above this (signed, milli-degrees C; " \
    "reset 85 C, the top of the characterized range in reference-chips.md section 1)", kNoFields) \
  /* end of AIMC_REGISTER_LIST */

#define AIMC_REGISTER_ENTRY(name, offset, access, reset, description, f) \
  Register{#name, offset, Access::access, reset, description, (f).data, (f).count},
inline constexpr Register kRegisters[] = {AIMC_REGISTER_LIST(AIMC_REGISTER_ENTRY)};
#undef AIMC_REGISTER_ENTRY

// The model's handle on a global register: Reg::ERROR_CODE is kRegisters[index(Reg::ERROR_CODE)].
#define AIMC_REGISTER_ENUM(name, ...) name,
enum class Reg : uint16_t { AIMC_REGISTER_LIST(AIMC_REGISTER_ENUM) };
#undef AIMC_REGISTER_ENUM

// ---- Per-tile registers: tile t's window starts at TILE_REGS_BASE + t * TILE_REGS_STRIDE ----
// T(NAME, offset in the window, access, one or per_column, description, fields).
#define AIMC_TILE_REGISTER_LIST(T) \
  T(STATUS, 0x000, ro, one, "tile status", fields(kTileStatusFields)) \
  T(FLAGS, 0x004, w1c, one, "sticky events (write 1 to clear)", fields(kTileFlagsFields)) \
  T(ROWS_USED, 0x008, ro, one, "word lines the programmed block uses", kNoFields) \
  T(COLS_USED, 0x00C, ro, one, "weight columns the programmed block uses", kNoFields) \
  T(MVMS, 0x010, ro, one, "MVMs this tile ran", kNoFields) \
  T(ADC_CLIPS, 0x014, ro, one, "ADC samples that clipped", kNoFields) \
  T(CYCLES_MAX, 0x018, ro, one, \
    "most program/erase cycles any cell of the tile has seen (endurance)", kNoFields) \
  T(WORN_CELLS, 0x01C, ro, one, \
    "cells past their endurance (stuck; they fail verify)", kNoFields) \
  T(TEST, 0x020, wo, one, \
    "write 1: one MVM with every input at zero over all columns; the raw (untrimmed) ADC codes " \
    "land in RESULT (the write takes one MVM time)", kNoFields) \
  T(UNCONVERGED, 0x024, ro, one, \
    "cells the last PROGRAM of this tile left outside the tolerance", kNoFields) \
  T(CAL, 0x028, wo, one, \
    "write 1: calibration read for drift compensation: one MVM with every used word line at full " \
    "scale; the sum over used columns of |column current|, each digitized at the verify " \
    "resolution, lands in CAL_NA (the write takes one MVM time)", kNoFields) \
  T(CAL_NA, 0x02C, ro, one, "result of the last CAL, in nA (saturates)", kNoFields) \
  T(CAL_REF, 0x030, rw, one, \
    "free for firmware: CAL_NA measured right after programming (kept in checkpoints)", kNoFields) \
  T(GAIN, 0x034, rw, one, \
    "digital gain applied to every ADC code of the tile after the trims, unsigned Q16.16 " \
    "(reset 1.0); drift compensation writes CAL_REF / CAL_NA here", fields(kTileGainFields)) \
  T(TRIM, 0x1000, rw, per_column, \
    "per column: signed ADC offset trim in LSB, subtracted from the column's codes", kNoFields) \
  T(RESULT, 0x2000, ro, per_column, "per column: signed ADC code of the last TEST", kNoFields) \
  /* end of AIMC_TILE_REGISTER_LIST */

#define AIMC_TILE_REGISTER_ENTRY(name, offset, access, span, description, f) \
  TileRegister{#name, offset, Access::access, Span::span == Span::per_column, description, \
               (f).data, (f).count},
inline constexpr TileRegister kTileRegisters[] = {
    AIMC_TILE_REGISTER_LIST(AIMC_TILE_REGISTER_ENTRY)};
#undef AIMC_TILE_REGISTER_ENTRY

#define AIMC_TILE_REGISTER_ENUM(name, ...) name,
enum class TileReg : uint16_t { AIMC_TILE_REGISTER_LIST(AIMC_TILE_REGISTER_ENUM) };
#undef AIMC_TILE_REGISTER_ENUM

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


// ---- Compile-time handles ------------------------------------------------------------------
inline constexpr size_t kRegisterCount = sizeof kRegisters / sizeof kRegisters[0];
inline constexpr size_t kTileRegisterCount = sizeof kTileRegisters / sizeof kTileRegisters[0];

constexpr size_t index(Reg r) { return static_cast<size_t>(r); }
constexpr size_t index(TileReg r) { return static_cast<size_t>(r); }
constexpr const Register& info(Reg r) { return kRegisters[index(r)]; }
constexpr const TileRegister& info(TileReg r) { return kTileRegisters[index(r)]; }
constexpr uint32_t offset(Reg r) { return info(r).offset; }
constexpr uint32_t offset(TileReg r) { return info(r).offset; }

// The bank decodes an offset through these properties; a table edit that breaks one fails to
// compile here, not at run time.
constexpr bool aligned_and_ascending(const Register* r, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (r[i].offset % 4 != 0 || (i > 0 && r[i].offset <= r[i - 1].offset)) return false;
  return true;
}
constexpr bool aligned_and_ascending(const TileRegister* r, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (r[i].offset % 4 != 0 || (i > 0 && r[i].offset <= r[i - 1].offset)) return false;
  return true;
}
static_assert(aligned_and_ascending(kRegisters, kRegisterCount),
              "register offsets must be 4-byte aligned and listed in ascending order");
static_assert(aligned_and_ascending(kTileRegisters, kTileRegisterCount),
              "tile register offsets must be 4-byte aligned and listed in ascending order");
// Spot checks that the enum and the table are one list (they are, by construction).
static_assert(offset(Reg::ID) == 0x000 && offset(Reg::ERROR_CODE) == 0x028 &&
              offset(Reg::TEMP_ALARM_MC) == 0x10C);
static_assert(offset(TileReg::STATUS) == 0x000 && offset(TileReg::TRIM) == 0x1000 &&
              offset(TileReg::RESULT) == 0x2000);

}  // namespace aimc::regs
