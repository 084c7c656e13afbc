#include "sim/bus.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/accounting.h"

namespace aimc::sim {

SharedBus::SharedBus(const sc_core::sc_module_name& name, const config::BusConfig& cfg,
                     EnergyLedger& ledger, TraceSink& trace)
    : Interconnect(name, ledger, trace, "bus"), cfg_(cfg) {
  if (cfg.width_bytes <= 0 || !(cfg.clock_mhz > 0.0) || !(cfg.latency_ns >= 0.0) ||
      !(cfg.e_byte_pj >= 0.0) || !(cfg.e_wire_bit_mm_pj >= 0.0) || !(cfg.p_static_uw >= 0.0) ||
      cfg.max_burst_bytes <= 0) {
    throw std::invalid_argument(std::string(this->name()) +
                                ": bus config needs width_bytes > 0, clock_mhz > 0, "
                                "max_burst_bytes > 0 and non-negative latency, energy and power");
  }
  latency_ps_ = ns_to_ps(cfg.latency_ns);
  cycle_ps_ = 1e6 / cfg.clock_mhz;
  e_byte_j_ = cfg.e_byte_pj * 1e-12;
  ledger_.set_static_power(ledger_component(), cfg.p_static_uw * 1e-6);
}

uint64_t SharedBus::burst_ps(uint64_t bytes) const {
  const uint64_t width = static_cast<uint64_t>(cfg_.width_bytes);
  const uint64_t cycles = (bytes + width - 1) / width;
  return latency_ps_ + static_cast<uint64_t>(std::llround(static_cast<double>(cycles) * cycle_ps_));
}

uint64_t SharedBus::occupancy_ps(uint64_t bytes) const {
  const uint64_t burst = static_cast<uint64_t>(cfg_.max_burst_bytes);
  if (bytes <= burst) return burst_ps(bytes);
  const uint64_t rest = bytes % burst;
  return (bytes / burst) * burst_ps(burst) + (rest ? burst_ps(rest) : 0);
}

InterconnectStats SharedBus::stats() const {
  InterconnectStats s{transfers(), bytes_moved(), timeline_.busy_ps(), timeline_.wait_ps(), busy_ps_by_phase(), {}};
  s.links.push_back({"bus", busy_ps_by_phase()});
  return s;
}

SharedBus::Grant SharedBus::book(const Endpoint&, const Endpoint*, size_t, uint64_t bytes,
                                 uint64_t arrival_ps, uint64_t now_ps, Phase) {
  // No request can start before the present: old bookings only slow the gap search.
  if ((timeline_.reservations() & 1023u) == 0) timeline_.forget_before(now_ps);
  // Arbitration per burst: a transfer longer than max_burst_bytes is granted burst by burst, each
  // in the first free slot after the previous one, so other masters' bursts interleave with it.
  const uint64_t burst = static_cast<uint64_t>(cfg_.max_burst_bytes);
  Grant g;
  uint64_t left = bytes, t = arrival_ps;
  uint32_t bursts = 0;
  do {
    const uint64_t n = std::min(left, burst);
    const uint64_t d = burst_ps(n);
    const uint64_t s = timeline_.reserve(t, d);
    if (bursts++ == 0) g.start_ps = s;
    g.busy_ps += d;
    t = s + d;
    left -= n;
  } while (left > 0);
  g.end_ps = t;
  g.pieces = bursts;
  g.energy_j = e_byte_j() * static_cast<double>(bytes);
  return g;
}

}  // namespace aimc::sim
