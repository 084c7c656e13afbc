// What the interconnect kinds laid on the tile grid share (the mesh, sim/mesh.h, and the
// point-to-point links, sim/links.h): the grid's shape and XY routes (sim/mesh_topology.h), which
// router each endpoint hangs on (tile t on router t, every other block on the port below the
// grid's foot), a wire length of one tile pitch per link, and per directed link a calendar
// (contention per link) with its busy time by phase, reported as InterconnectStats::links.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "sim/interconnect.h"
#include "sim/mesh_topology.h"
#include "sim/timeline.h"

namespace aimc::sim {

class GridInterconnect : public Interconnect {
 public:
  const MeshTopology& topology() const { return topo_; }
  // The router an endpoint hangs on; std::out_of_range for a tile off the grid.
  int node_of(const Endpoint& e) const;
  double wire_mm(const Endpoint& src, const Endpoint& dst) const override;
  InterconnectStats stats() const override;

 protected:
  GridInterconnect(const sc_core::sc_module_name& name, int rows, int cols, EnergyLedger& ledger,
                   TraceSink& trace, const char* component);

  // The route (one destination) or multicast tree from src to dsts[0 .. ndst) into hops_, as
  // router numbers in nodes_; returns the deepest destination's hop count.
  int plan(const Endpoint& src, const Endpoint* dsts, size_t ndst);
  // Books link `link` for [start, start + hold) in `phase` (the calendar forgets what ended
  // before now_ps now and then); returns the start it got.
  uint64_t hold(int link, uint64_t start_ps, uint64_t hold_ps, uint64_t now_ps, Phase phase);
  Timeline& calendar(int link) { return links_[static_cast<size_t>(link)]; }

  MeshTopology topo_;
  std::vector<MeshTopology::Hop> hops_;  // the transfer being booked (kept to avoid allocations)
  std::vector<int> nodes_;
  uint64_t busy_ps_ = 0, wait_ps_ = 0;

 private:
  std::vector<Timeline> links_;
  std::vector<std::array<uint64_t, kPhaseCount>> link_busy_;  // per link, by phase
};

}  // namespace aimc::sim
