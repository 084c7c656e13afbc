#include "chip/gdpu.h"

namespace aimc::chip {

config::PlatformConfig gdpu_unit_config(const config::PlatformConfig& cfg) {
  config::PlatformConfig c = cfg;
  config::DigitalConfig& d = c.tile.digital;
  d.p_static_uw = cfg.tile.digital.lanes > 0
                      ? cfg.tile.digital.p_static_uw * cfg.gdpu.lanes / cfg.tile.digital.lanes
                      : 0.0;
  d.lanes = cfg.gdpu.lanes;
  d.clock_mhz = cfg.gdpu.clock_mhz;
  return c;
}

Gdpu::Gdpu(const config::PlatformConfig& cfg, sim::EnergyLedger& ledger, sim::TraceSink& trace)
    : unit_(make_digital_unit(gdpu_unit_config(cfg))),
      track_(trace.track("gdpu")),
      component_(ledger.component("gdpu")) {
  ledger.set_static_power(component_, unit_->p_static_w());
}

uint64_t Gdpu::t_ps(long element_ops) const {
  BlockOp op;
  op.element_ops = element_ops;
  return unit_->cost(op).t_ps;
}

double Gdpu::e_j(long element_ops, DigitalWork work) const {
  BlockOp op;
  op.element_ops = element_ops;
  op.work = work;
  return unit_->cost(op).e_j;
}

}  // namespace aimc::chip
