// The interconnect between the chip's blocks: what moves bytes from a source (a tile, the SRAM,
// the host's DMA engine) to a destination, and at what time and energy. The sequencer and the DMA
// engine book every transfer through this interface; the shared analog-digital bus (sim/bus.h) is
// one implementation, and a mesh or point-to-point links are others: one new file that derives
// from Interconnect plus one line in interconnect_registry.cpp, with no change in the sequencer.
//
// What the base class does for every kind (TLM-2.0 loosely timed, ARCHITECTURE rules 2-4):
//   - address decoding: map() gives each bound target port an address region and the endpoint
//     it stands for; targets see addresses relative to their region;
//   - misuse as responses: an unmapped access, or one crossing a region's end, gets
//     TLM_ADDRESS_ERROR_RESPONSE and costs neither time nor energy;
//   - debug transport (no time, no energy) clipped to the region, DMI denied (every functional
//     transfer pays its occupancy and energy), DMI invalidations passed on;
//   - energy posted to the ledger (component "<kind's component>") only for transfers the
//     target answered OK, a trace span per transfer.
// What a kind decides (book()): when a transfer of `bytes` from `src` to `dst` that arrives at
// `arrival_ps` starts and ends, how long it holds the medium, and its energy. The initiator's
// delay then runs to the end of that occupancy, and the target adds its own latency on top. An
// interconnect never calls wait(). The base class also keeps the medium time by phase.
//
// Endpoints. A transfer's source and destination default to the initiator port's endpoint and the
// decoded region's endpoint. An initiator that moves data on another block's behalf (the sequencer
// moves a tile's partial sums to another tile, and im2col patches from the SRAM into a tile)
// attaches a Route extension that names them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "sim/energy_ledger.h"
#include "sim/floorplan.h"
#include "sim/trace.h"

namespace aimc::sim {

// A block that sends or receives data on the interconnect.
struct Endpoint {
  enum class Kind : uint8_t { none, host, sequencer, programmer, sram, tile, gdpu };
  Kind kind = Kind::none;
  int index = 0;  // tile number for Kind::tile

  static Endpoint tile(int t) { return {Kind::tile, t}; }
  static Endpoint sram() { return {Kind::sram, 0}; }
  static Endpoint host() { return {Kind::host, 0}; }
  bool operator==(const Endpoint& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Endpoint& o) const { return !(*this == o); }
};
std::string to_string(const Endpoint& e);  // "tile3", "sram", "host", ...

// The real source and destination of a transfer, when they are not the initiator and the
// addressed target (see the top of this file).
// `also` lists further destinations of the same bytes (a multicast: an input vector for several
// tiles); a kind whose multicast() is false books them as one transfer per destination.
struct Route : tlm::tlm_extension<Route> {
  Endpoint src, dst;
  std::vector<Endpoint> also;
  Route() = default;
  Route(Endpoint s, Endpoint d) : src(s), dst(d) {}
  tlm::tlm_extension_base* clone() const override { return new Route(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const Route&>(other);
  }
};

// Totals over the run, for the report (every kind answers the same questions).
struct InterconnectStats {
  uint64_t transfers = 0;  // transactions that decoded (answered OK or not)
  uint64_t bytes = 0;      // bytes of transfers the target answered OK
  uint64_t busy_ps = 0;    // time the medium was held (summed over links for a kind with several)
  uint64_t wait_ps = 0;    // time transfers waited for a free medium
  // busy_ps split by the phase each transfer was charged to (its Accounting's, else the default
  // phase); indexed by sim::Phase, sums to busy_ps.
  std::array<uint64_t, kPhaseCount> busy_ps_by_phase{};
  // Each link of the kind (a shared bus: one, "bus"): its name and the time it was held, by phase.
  struct Link {
    std::string name;
    std::array<uint64_t, kPhaseCount> busy_ps_by_phase{};
  };
  std::vector<Link> links;
};

class Interconnect : public sc_core::sc_module {
 public:
  // Initiators (DMA engine, sequencer) bind here.
  tlm_utils::multi_passthrough_target_socket<Interconnect> tsock;
  // Targets bind here; map() gives each bound port its address region.
  tlm_utils::multi_passthrough_initiator_socket<Interconnect> isock;

  struct Region {
    int port;
    uint64_t base;
    uint64_t size;
    std::string name;
    Endpoint endpoint;
    std::string read_span;   // "rd <name>", precomputed so tracing does not build strings
    std::string write_span;  // "wr <name>"
    uint64_t end() const { return base + size; }  // one past the last byte
  };

  Interconnect(const Interconnect&) = delete;
  Interconnect& operator=(const Interconnect&) = delete;

  // Maps [base, base + size) to initiator-socket port `port`, standing for `endpoint`. Overlapping
  // or empty regions throw std::invalid_argument (a platform assembly bug).
  void map(int port, uint64_t base, uint64_t size, std::string name, Endpoint endpoint = {});
  // The endpoint an initiator bound at target-socket index `id` stands for (default: none).
  void set_initiator_endpoint(int id, Endpoint endpoint);
  const std::vector<Region>& regions() const { return regions_; }
  const Region* decode(uint64_t address) const;

  // Phase charged when a payload carries no Accounting extension (default: the ledger's phase).
  void set_default_phase(Phase phase) { default_phase_ = phase; }

  // Time one transfer of `bytes` from src to dst holds the interconnect when nothing else uses it.
  virtual uint64_t occupancy_ps(const Endpoint& src, const Endpoint& dst, uint64_t bytes) const = 0;
  virtual InterconnectStats stats() const = 0;
  // The kind's name as registered ("shared_bus", ...). It is also sc_object::kind(), which it
  // overrides on purpose: SystemC's hierarchy listings then name the interconnect's kind.
  const char* kind() const override = 0;
  // Whether one transfer can deliver to several destinations (Route::also) at the cost of one.
  virtual bool multicast() const { return false; }
  // Where the endpoints sit (the chip sets it before simulation); kinds take their wire lengths
  // from it. Wire length a transfer from src to dst drives, in mm.
  void set_floorplan(const Floorplan& f) { floorplan_ = f; }
  const Floorplan& floorplan() const { return floorplan_; }
  virtual double wire_mm(const Endpoint& src, const Endpoint& dst) const = 0;
  // Die area of the interconnect's own (its routing channels, routers), in um^2.
  virtual double area_um2() const = 0;

  uint64_t transfers() const { return transfers_; }
  uint64_t bytes_moved() const { return bytes_moved_; }
  // The medium time of the transfers booked so far (Grant::busy_ps), by their phase.
  const std::array<uint64_t, kPhaseCount>& busy_ps_by_phase() const { return busy_ps_by_phase_; }
  int ledger_component() const { return comp_; }
  int trace_track() const { return track_; }

 protected:
  // `component`: the ledger component the kind's energy is charged to ("bus").
  Interconnect(const sc_core::sc_module_name& name, EnergyLedger& ledger, TraceSink& trace,
               const char* component);

  // A booked transfer: it holds the medium from start_ps to end_ps; `pieces` is how many grants it
  // took (bursts, packets); energy_j is charged when the target answers OK. busy_ps is the medium
  // time it holds (its share of InterconnectStats::busy_ps: the pieces' durations, summed over
  // links), which the base class books to the transfer's phase.
  struct Grant {
    uint64_t start_ps = 0, end_ps = 0;
    uint32_t pieces = 1;
    double energy_j = 0.0;
    uint64_t busy_ps = 0;
  };
  // Books a decoded transfer from src to dsts[0 .. ndst) (ndst >= 1; more than one only when
  // multicast() is true), charged to `phase`. now_ps is the present (no booking can start before it).
  virtual Grant book(const Endpoint& src, const Endpoint* dsts, size_t ndst, uint64_t bytes,
                     uint64_t arrival_ps, uint64_t now_ps, Phase phase) = 0;

  EnergyLedger& ledger_;
  TraceSink& trace_;
  Floorplan floorplan_;

 private:
  void b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(int id, tlm::tlm_generic_payload& gp);
  bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
  void invalidate_direct_mem_ptr(int id, sc_dt::uint64 start, sc_dt::uint64 end);
  void end_of_elaboration() override;
  // Region for [address, address + length), or nullptr if unmapped or crossing a region's end.
  const Region* decode_range(uint64_t address, uint64_t length) const;

  int comp_;
  int track_;
  std::optional<Phase> default_phase_;
  std::vector<Region> regions_;  // sorted by base, disjoint
  std::vector<Endpoint> initiators_;
  std::vector<Endpoint> dsts_;  // the current transfer's destinations (kept to avoid allocations)
  uint64_t transfers_ = 0;
  uint64_t bytes_moved_ = 0;
  std::array<uint64_t, kPhaseCount> busy_ps_by_phase_{};
};

}  // namespace aimc::sim
