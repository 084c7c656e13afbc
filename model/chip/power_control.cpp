#include "chip/power_control.h"

#include <algorithm>

#include "aimc_regs.h"
#include "chip/tile.h"

namespace aimc::chip {

using regs::Reg;

PowerControl::PowerControl(HostContext& ctx)
    : ctx_(ctx), c_tile_static_(ctx.ledger.component("tile_static")) {
  ctx_.regs.on_read(Reg::POWER_STATE, [this](const RegAccess&) { return state_; });
  ctx_.regs.on_write(Reg::POWER_STATE, [this](uint32_t v, RegAccess& a) { write(v, a); });
}

bool PowerControl::standby() const { return state_ == AIMC_POWER_STANDBY; }

void PowerControl::write(uint32_t value, RegAccess& a) {
  if (value > AIMC_POWER_STANDBY) return a.refuse(AIMC_ERR_BAD_VALUE);
  if (value == state_) return;
  if (ctx_.host.any_busy()) return a.refuse(AIMC_ERR_BUSY);
  enter(value, a.now_ps);
}

void PowerControl::enter(uint32_t state, uint64_t now_ps) {
  const auto& cfg = ctx_.cfg;
  const double uw = state == AIMC_POWER_ACTIVE ? cfg.tile.p_static_active_uw
                    : state == AIMC_POWER_IDLE ? cfg.tile.p_static_idle_uw
                                               : 0.0;  // STANDBY: tiles power-gated
  const uint64_t t = std::max(ctx_.ledger.now_ps(), now_ps);
  ctx_.ledger.set_static_power(c_tile_static_, uw * 1e-6 * cfg.tile_count(), t);
  set_block_static_power(ctx_.ledger, ctx_.tiles, state == AIMC_POWER_ACTIVE, t);
  state_ = state;
  if (listener_) listener_(state, t);
  if (ctx_.trace.enabled()) ctx_.trace.signal(ctx_.track, "power_state", t, state, 2);
  if (ctx_.trace.enabled())
    ctx_.trace.instant(ctx_.track,
                       state == AIMC_POWER_ACTIVE ? "power ACTIVE"
                       : state == AIMC_POWER_IDLE ? "power IDLE" : "power STANDBY",
                       t, {{"tile_static_uw", uw * cfg.tile_count()}});
}

}  // namespace aimc::chip
