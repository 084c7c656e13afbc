#include "chip/perf_counters.h"

#include <algorithm>

#include "aimc_regs.h"
#include "chip/tile.h"

namespace aimc::chip {

using regs::Reg;

namespace {
uint32_t lo(uint64_t v) { return static_cast<uint32_t>(v); }
uint32_t hi(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
}  // namespace

PerfCounters::PerfCounters(HostContext& ctx)
    : ctx_(ctx), c_dac_(ctx.ledger.component("dac")), c_adc_(ctx.ledger.component("adc")) {
  HostRegisters& r = ctx_.regs;
  r.on_write(Reg::PERF_CTRL, [this](uint32_t v, RegAccess& a) {
    if (v & AIMC_PERF_CTRL_RESET_MASK) restart(a.now_ps);
  });
  r.on_read(Reg::PERF_TIME_NS_LO, [this](const RegAccess& a) { return lo(time_ns(a.now_ps)); });
  r.on_read(Reg::PERF_TIME_NS_HI, [this](const RegAccess& a) { return hi(time_ns(a.now_ps)); });
  r.on_read(Reg::PERF_CYCLES_LO, [this](const RegAccess& a) { return lo(cycles(a.now_ps)); });
  r.on_read(Reg::PERF_CYCLES_HI, [this](const RegAccess& a) { return hi(cycles(a.now_ps)); });
  r.on_read(Reg::PERF_MVMS, [this](const RegAccess&) { return saturate_u32(mvms_now() - base_mvms_); });
  r.on_read(Reg::PERF_CONVERSIONS,
            [this](const RegAccess&) { return saturate_u32(conversions_now() - base_conversions_); });
  r.on_read(Reg::PERF_BUS_BYTES, [this](const RegAccess&) {
    return saturate_u32(bus_bytes_ ? bus_bytes_() - base_bus_bytes_ : 0);
  });
  r.on_read(Reg::PERF_ENERGY_NJ, [this](const RegAccess&) {
    const double nj = (dynamic_j_now() - base_energy_j_) * 1e9;
    return nj >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<uint32_t>(std::max(0.0, nj));
  });
}

void PerfCounters::restart(uint64_t now_ps) {
  base_time_ps_ = now_ps;
  base_mvms_ = mvms_now();
  base_conversions_ = conversions_now();
  base_bus_bytes_ = bus_bytes_now();
  base_energy_j_ = dynamic_j_now();
}

uint64_t PerfCounters::time_ns(uint64_t now_ps) const {
  return (now_ps - std::min(now_ps, base_time_ps_)) / 1000u;
}

uint64_t PerfCounters::cycles(uint64_t now_ps) const {
  const double c = (now_ps - std::min(now_ps, base_time_ps_)) * 1e-6 * ctx_.cfg.tile.digital.clock_mhz;
  return static_cast<uint64_t>(c);
}

uint64_t PerfCounters::mvms_now() const {
  uint64_t n = 0;
  for (const Tile* t : ctx_.tiles) n += t->mvm_count();
  return n;
}

uint64_t PerfCounters::conversions_now() const {
  return ctx_.ledger.event_count(c_dac_) + ctx_.ledger.event_count(c_adc_);
}

double PerfCounters::dynamic_j_now() const { return ctx_.ledger.total_j() - ctx_.ledger.static_j(); }

}  // namespace aimc::chip
