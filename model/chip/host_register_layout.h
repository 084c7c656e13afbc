// Where the host interface's registers are: the one register table at offset 0 and one window of
// tile registers per tile (plain C++; the host interface and the register-bank tests share it).
#pragma once

#include "aimc_regs.h"
#include "chip/register_bank.h"
#include "chip/register_table.h"

namespace aimc::chip {

inline RegisterBankCore::Layout host_register_layout(unsigned tiles, unsigned columns) {
  RegisterBankCore::Layout l;
  l.registers = regs::kRegisters;
  l.register_count = regs::kRegisterCount;
  l.space_bytes = AIMC_REGS_SIZE;
  l.window_registers = regs::kTileRegisters;
  l.window_register_count = regs::kTileRegisterCount;
  l.window_base = AIMC_TILE_REGS_BASE;
  l.window_stride = AIMC_TILE_REGS_STRIDE;
  l.windows = tiles;
  l.columns = columns;
  return l;
}

}  // namespace aimc::chip
