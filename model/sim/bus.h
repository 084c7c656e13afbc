// The shared analog-digital bus between tiles, the activation SRAM, the host interface and the
// programming controller: a TLM-2.0 loosely-timed router that owns address decoding and models
// contention with a Timeline (ARCHITECTURE rule 2), energy per byte (rule 3) and a trace span per
// transfer (rule 4). LT only (b_transport, transport_dbg); DMI through the bus is denied so that
// every functional transfer pays its occupancy and energy.
//
// Timing: a transfer arriving at sc_time_stamp() + delay is cut into bursts of at most
// max_burst_bytes; each burst is granted the first free slot at or after the previous burst's end
// (the first: at or after the arrival) and holds the bus for latency_ns + ceil(bytes /
// width_bytes) clock cycles, so other masters' bursts can interleave with a long transfer;
// the initiator's delay then runs to the end of that occupancy and the target adds its own latency
// on top (the target's access does not hold the bus). The bus never calls wait(). Grants are in
// the order b_transport calls reach the bus: with temporal decoupling an initiator running ahead
// can take a slot before another whose local time is earlier, an error bounded by the quantum.
// Energy e_byte_pj * bytes is posted only for transfers the target answered OK; decode errors
// (unmapped, or crossing a region's end) cost neither time nor energy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "config/platform_config.h"
#include "sim/energy_ledger.h"
#include "sim/timeline.h"
#include "sim/trace.h"

namespace aimc::sim {

class SharedBus : public sc_core::sc_module {
 public:
  // Initiators (DMA engine, sequencer, programming controller, tiles) bind here.
  tlm_utils::multi_passthrough_target_socket<SharedBus> tsock;
  // Targets bind here; map() gives each bound port its address region.
  tlm_utils::multi_passthrough_initiator_socket<SharedBus> isock;

  struct Region {
    int port;
    uint64_t base;
    uint64_t size;
    std::string name;
    std::string read_span;   // "rd <name>", precomputed so tracing does not build strings
    std::string write_span;  // "wr <name>"
    uint64_t end() const { return base + size; }  // one past the last byte
  };

  SharedBus(const sc_core::sc_module_name& name, const config::BusConfig& cfg, EnergyLedger& ledger,
            TraceSink& trace);
  SharedBus(const SharedBus&) = delete;
  SharedBus& operator=(const SharedBus&) = delete;

  // Maps [base, base + size) to initiator-socket port `port`; targets see addresses relative to
  // base. Overlapping or empty regions throw std::invalid_argument (a platform assembly bug).
  void map(int port, uint64_t base, uint64_t size, std::string name);
  const std::vector<Region>& regions() const { return regions_; }
  const Region* decode(uint64_t address) const;

  // Phase charged when a payload carries no Accounting extension (default: the ledger's phase).
  void set_default_phase(Phase phase) { default_phase_ = phase; }

  // Bus time held by one transfer of `bytes` on a free bus: per burst of at most
  // max_burst_bytes, latency + ceil(burst bytes / width) cycles.
  uint64_t occupancy_ps(uint64_t bytes) const;
  uint64_t burst_ps(uint64_t bytes) const;  // one burst: latency + ceil(bytes / width) cycles
  const Timeline& timeline() const { return timeline_; }
  uint64_t transfers() const { return transfers_; }
  uint64_t bytes_moved() const { return bytes_moved_; }
  int ledger_component() const { return comp_; }
  int trace_track() const { return track_; }

 private:
  void b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(int id, tlm::tlm_generic_payload& gp);
  bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
  void invalidate_direct_mem_ptr(int id, sc_dt::uint64 start, sc_dt::uint64 end);
  void end_of_elaboration() override;

  // Region for [address, address + length), or nullptr if unmapped or crossing a region's end.
  const Region* decode_range(uint64_t address, uint64_t length) const;

  config::BusConfig cfg_;
  EnergyLedger& ledger_;
  TraceSink& trace_;
  int comp_;
  int track_;
  uint64_t latency_ps_;
  double cycle_ps_;
  double e_byte_j_;
  std::optional<Phase> default_phase_;
  std::vector<Region> regions_;  // sorted by base, disjoint
  Timeline timeline_;
  uint64_t transfers_ = 0;
  uint64_t bytes_moved_ = 0;
};

}  // namespace aimc::sim
