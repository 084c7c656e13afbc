// Power control: the POWER_STATE register and the tiles' static power it sets in the ledger.
// ACTIVE and IDLE differ in the tiles' static power; STANDBY power-gates the tiles (no static
// power, weights kept) and the command registers refuse work (ERR_POWER_STATE); a listener set at
// assembly passes every change on (the SRAM's banks follow sram.standby). A change while
// an engine is busy is refused (ERR_BUSY), a value past STANDBY too (ERR_BAD_VALUE).
#pragma once

#include <cstdint>
#include <functional>

#include "chip/host_context.h"

namespace aimc::chip {

class PowerControl {
 public:
  explicit PowerControl(HostContext& ctx);
  PowerControl(const PowerControl&) = delete;
  PowerControl& operator=(const PowerControl&) = delete;

  uint32_t state() const { return state_; }  // AIMC_POWER_*
  bool standby() const;
  // Called after every change of state, with the state and the time it takes effect.
  void set_listener(std::function<void(uint32_t state, uint64_t t_ps)> f) { listener_ = std::move(f); }
  // Full reset: ACTIVE (a change of state like any other, at now_ps).
  void reset(uint64_t now_ps) {
    if (state_ != 0) enter(0, now_ps);
  }

 private:
  void write(uint32_t value, RegAccess& a);
  void enter(uint32_t state, uint64_t now_ps);

  HostContext& ctx_;
  int c_tile_static_;
  uint32_t state_ = 0;  // AIMC_POWER_ACTIVE
  std::function<void(uint32_t, uint64_t)> listener_;
};

}  // namespace aimc::chip
