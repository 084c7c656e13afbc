// The chip's global digital processing unit (gdpu.lanes > 0; HERMES's GDPU, reference-chips 3a
// "Clocks, links"): one digital unit beside the SRAM, with the tiles' logic (tile.digital.*: its
// kind, energies per element operation, leakage and area per lane) at gdpu.lanes lanes and
// gdpu.clock_mhz. With one, the digital ops run there instead of on a tile's digital unit
// (chip/op_digital.cpp); its energy is ledger component "gdpu", its time a Timeline of its own.
// Plain C++ apart from the trace track.
#pragma once

#include <cstdint>
#include <memory>

#include "chip/tile_blocks.h"
#include "config/platform_config.h"
#include "sim/energy_ledger.h"
#include "sim/timeline.h"
#include "sim/trace.h"

namespace aimc::chip {

class Gdpu {
 public:
  // The unit of cfg.gdpu (lanes > 0).
  Gdpu(const config::PlatformConfig& cfg, sim::EnergyLedger& ledger, sim::TraceSink& trace);

  uint64_t t_ps(long element_ops) const;
  double e_j(long element_ops, DigitalWork work) const;
  sim::Timeline& timeline() { return timeline_; }
  const sim::Timeline& timeline() const { return timeline_; }
  int track() const { return track_; }
  int component() const { return component_; }
  double area_um2() const { return unit_->area_um2(); }
  double p_static_w() const { return unit_->p_static_w(); }

 private:
  std::unique_ptr<DigitalUnit> unit_;
  sim::Timeline timeline_;
  int track_, component_;
};

// The tiles' digital config at the GDPU's lanes and clock (leakage scaled by lanes).
config::PlatformConfig gdpu_unit_config(const config::PlatformConfig& cfg);

}  // namespace aimc::chip
