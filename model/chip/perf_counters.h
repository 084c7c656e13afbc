// The performance counters: PERF_CTRL restarts them; PERF_TIME_NS and PERF_CYCLES (simulated time
// and reference-clock cycles), PERF_MVMS, PERF_CONVERSIONS, PERF_ENERGY_NJ and PERF_BUS_BYTES
// read the chip's live statistics, relative to the last restart (power-on, PERF_CTRL.RESET or
// CTRL.FULL_RESET: time too, so that a session of `aimc serve` does not see how long the ones
// before it ran) and computed at the reader's local time, so a read never waits.
#pragma once

#include <cstdint>
#include <functional>

#include "chip/host_context.h"

namespace aimc::chip {

class PerfCounters {
 public:
  explicit PerfCounters(HostContext& ctx);
  PerfCounters(const PerfCounters&) = delete;
  PerfCounters& operator=(const PerfCounters&) = delete;

  // Where PERF_BUS_BYTES reads from (the chip's bus); set at assembly.
  void set_bus_bytes_source(std::function<uint64_t()> f) { bus_bytes_ = std::move(f); }
  // PERF_CTRL.RESET (and a full reset): the counters count from now.
  void restart(uint64_t now_ps);

 private:
  uint64_t time_ns(uint64_t now_ps) const;
  uint64_t cycles(uint64_t now_ps) const;
  uint64_t mvms_now() const;
  uint64_t conversions_now() const;
  uint64_t bus_bytes_now() const { return bus_bytes_ ? bus_bytes_() : 0; }
  double dynamic_j_now() const;

  HostContext& ctx_;
  int c_dac_, c_adc_;
  std::function<uint64_t()> bus_bytes_;
  // Baselines of the last restart.
  uint64_t base_time_ps_ = 0, base_mvms_ = 0, base_conversions_ = 0, base_bus_bytes_ = 0;
  double base_energy_j_ = 0.0;
};

}  // namespace aimc::chip
