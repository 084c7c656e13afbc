// The shared analog-digital bus between tiles, the activation SRAM, the host interface and the
// programming controller (memBrain's one bus): the default Interconnect (sim/interconnect.h, which
// owns decoding, error responses, energy posting and the trace span). One medium for every
// source and destination, so the route does not matter; contention is modelled by one Timeline
// (ARCHITECTURE rule 2).
//
// Timing: a transfer arriving at sc_time_stamp() + delay is cut into bursts of at most
// max_burst_bytes; each burst is granted the first free slot at or after the previous burst's end
// (the first: at or after the arrival) and holds the bus for latency_ns + ceil(bytes /
// width_bytes) clock cycles, so other masters' bursts can interleave with a long transfer;
// the initiator's delay then runs to the end of that occupancy and the target adds its own latency
// on top (the target's access does not hold the bus). Grants are in the order b_transport calls
// reach the bus: with temporal decoupling an initiator running ahead can take a slot before
// another whose local time is earlier, an error bounded by the quantum.
// Energy: e_byte_pj * bytes, posted only for transfers the target answered OK.
#pragma once

#include <cstdint>

#include "config/platform_config.h"
#include "sim/interconnect.h"
#include "sim/timeline.h"

namespace aimc::sim {

class SharedBus final : public Interconnect {
 public:
  SharedBus(const sc_core::sc_module_name& name, const config::BusConfig& cfg, EnergyLedger& ledger,
            TraceSink& trace);

  // Bus time held by one transfer of `bytes` on a free bus: per burst of at most
  // max_burst_bytes, latency + ceil(burst bytes / width) cycles.
  uint64_t occupancy_ps(uint64_t bytes) const;
  uint64_t occupancy_ps(const Endpoint&, const Endpoint&, uint64_t bytes) const override {
    return occupancy_ps(bytes);
  }
  uint64_t burst_ps(uint64_t bytes) const;  // one burst: latency + ceil(bytes / width) cycles
  const Timeline& timeline() const { return timeline_; }
  InterconnectStats stats() const override;
  const char* kind() const override { return "shared_bus"; }
  // Every transfer drives the whole bus: the floorplan's comb (Floorplan::comb_bus_mm).
  double wire_mm(const Endpoint&, const Endpoint&) const override { return floorplan().comb_bus_mm(); }
  // Energy of one byte: the bus logic's e_byte_pj plus 8 bits over wire_mm at e_wire_bit_mm_pj.
  double e_byte_j() const { return e_byte_j_ + 8.0 * cfg_.e_wire_bit_mm_pj * 1e-12 * floorplan().comb_bus_mm(); }
  // A routing channel of its own along the comb: (8 width_bytes + 32) wires at wire_pitch_um
  // (0: the wires route over the blocks in upper metal, no area of their own).
  double area_um2() const override {
    return (8.0 * cfg_.width_bytes + 32.0) * cfg_.wire_pitch_um * floorplan().comb_bus_mm() * 1e3;
  }

 private:
  Grant book(const Endpoint& src, const Endpoint* dsts, size_t ndst, uint64_t bytes, uint64_t arrival_ps,
             uint64_t now_ps, Phase phase) override;

  config::BusConfig cfg_;
  uint64_t latency_ps_;
  double cycle_ps_;
  double e_byte_j_;
  Timeline timeline_;
};

}  // namespace aimc::sim
