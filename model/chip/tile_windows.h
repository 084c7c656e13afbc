// The per-tile register windows (TILE_REGS_BASE + t * TILE_REGS_STRIDE): each tile's status,
// statistics, endurance and calibration state, its per-column ADC trims and TEST results, and
// the TEST and CAL commands (one MVM each, refused in STANDBY or while an engine uses the
// tiles; the write takes the MVM's time). The state lives in the tiles (chip/tile.h), which is
// what checkpoints save; the windows only show it.
#pragma once

#include <cstdint>

#include "chip/host_context.h"

namespace aimc::chip {

class Tile;

class TileWindows {
 public:
  explicit TileWindows(HostContext& ctx);
  TileWindows(const TileWindows&) = delete;
  TileWindows& operator=(const TileWindows&) = delete;

 private:
  void attach_reads();
  void attach_writes();
  Tile& tile(const RegAccess& a) const { return *ctx_.tiles[a.window]; }
  void write_trim(uint32_t value, RegAccess& a);
  void calibrate(uint32_t value, RegAccess& a);
  void test(uint32_t value, RegAccess& a);

  HostContext& ctx_;
};

}  // namespace aimc::chip
