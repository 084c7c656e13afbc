#include "chip/tile_windows.h"

#include <algorithm>

#include "aimc_regs.h"
#include "chip/nvm_programmer.h"
#include "chip/sequencer.h"
#include "chip/tile.h"

namespace aimc::chip {

using regs::TileReg;

TileWindows::TileWindows(HostContext& ctx) : ctx_(ctx) {
  attach_reads();
  attach_writes();
}

void TileWindows::attach_reads() {
  HostRegisters& r = ctx_.regs;
  r.on_read(TileReg::STATUS, [this](const RegAccess& a) {
    const Tile& t = tile(a);
    return (t.programmed() ? AIMC_TILE_STATUS_PROGRAMMED_MASK : 0u) |
           (t.clipped_flag() ? AIMC_TILE_STATUS_CLIPPED_MASK : 0u);
  });
  r.on_read(TileReg::FLAGS, [this](const RegAccess& a) {
    return tile(a).clipped_flag() ? AIMC_TILE_FLAGS_CLIPPED_MASK : 0u;
  });
  r.on_read(TileReg::ROWS_USED, [this](const RegAccess& a) {
    return tile(a).programmed() ? static_cast<uint32_t>(tile(a).rows_used()) : 0u;
  });
  r.on_read(TileReg::COLS_USED, [this](const RegAccess& a) {
    return tile(a).programmed() ? static_cast<uint32_t>(tile(a).cols_used()) : 0u;
  });
  r.on_read(TileReg::MVMS, [this](const RegAccess& a) { return saturate_u32(tile(a).mvm_count()); });
  r.on_read(TileReg::ADC_CLIPS, [this](const RegAccess& a) { return saturate_u32(tile(a).adc_clipped()); });
  r.on_read(TileReg::CYCLES_MAX, [this](const RegAccess& a) { return tile(a).cells().max_cycles(); });
  r.on_read(TileReg::WORN_CELLS, [this](const RegAccess& a) {
    return saturate_u32(static_cast<uint64_t>(tile(a).cells().worn_cells()));
  });
  r.on_read(TileReg::UNCONVERGED, [this](const RegAccess& a) { return tile(a).last_unconverged(); });
  r.on_read(TileReg::CAL_NA, [this](const RegAccess& a) { return tile(a).cal_na(); });
  r.on_read(TileReg::CAL_REF, [this](const RegAccess& a) { return tile(a).cal_ref(); });
  r.on_read(TileReg::GAIN, [this](const RegAccess& a) { return tile(a).gain_q16(); });
  r.on_read(TileReg::TRIM, [this](const RegAccess& a) {
    return static_cast<uint32_t>(tile(a).trim(static_cast<int>(a.column)));
  });
  r.on_read(TileReg::RESULT, [this](const RegAccess& a) {
    return static_cast<uint32_t>(tile(a).test_result(static_cast<int>(a.column)));
  });
}

void TileWindows::attach_writes() {
  HostRegisters& r = ctx_.regs;
  r.on_write(TileReg::FLAGS, [this](uint32_t v, RegAccess& a) {
    if (v & AIMC_TILE_FLAGS_CLIPPED_MASK) tile(a).clear_clipped_flag();
  });
  r.on_write(TileReg::CAL_REF, [this](uint32_t v, RegAccess& a) { tile(a).set_cal_ref(v); });
  r.on_write(TileReg::GAIN, [this](uint32_t v, RegAccess& a) { tile(a).set_gain_q16(v); });
  r.on_write(TileReg::TRIM, [this](uint32_t v, RegAccess& a) { write_trim(v, a); });
  r.on_write(TileReg::CAL, [this](uint32_t v, RegAccess& a) { calibrate(v, a); });
  r.on_write(TileReg::TEST, [this](uint32_t v, RegAccess& a) { test(v, a); });
}

void TileWindows::write_trim(uint32_t value, RegAccess& a) {
  const int32_t v = static_cast<int32_t>(value);
  const int32_t limit = 1 << ctx_.cfg.tile.adc.bits;
  if (v > limit || v < -limit) return a.refuse(AIMC_ERR_BAD_VALUE);
  tile(a).set_trim(static_cast<int>(a.column), v);
}

void TileWindows::calibrate(uint32_t value, RegAccess& a) {
  if (!(value & 1u)) return;
  if (ctx_.host.standby()) return a.refuse(AIMC_ERR_POWER_STATE);
  if (ctx_.sequencer.busy() || ctx_.host.queue_busy() || ctx_.programmer.busy())
    return a.refuse(AIMC_ERR_BUSY);
  if (!tile(a).programmed()) return a.refuse(AIMC_ERR_NOT_PROGRAMMED);
  a.took_ps += tile(a).calibration_read(ctx_.ledger.phase());
}

void TileWindows::test(uint32_t value, RegAccess& a) {
  if (!(value & 1u)) return;
  if (ctx_.host.standby()) return a.refuse(AIMC_ERR_POWER_STATE);
  if (ctx_.sequencer.busy() || ctx_.host.queue_busy()) return a.refuse(AIMC_ERR_BUSY);
  a.took_ps += tile(a).zero_input_test(ctx_.ledger.phase());
}

}  // namespace aimc::chip
