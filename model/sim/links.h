// Point-to-point links between neighbouring tiles (interconnect.kind links), as on a many-core
// chip whose cores talk to their neighbours over serial links (HERMES, reference-chips 3a: link
// 3.2 Gbit/s): the mesh's shape and XY routes (sim/mesh_topology.h), a link each way between
// neighbours and to the port below the grid's foot (SRAM, host, sequencer, programmer), but no
// routers. A tile that is not a packet's destination relays it, store and forward: it receives the
// whole packet, then sends it on. The base class (sim/interconnect.h) owns decoding, error
// responses, energy posting and the trace.
//
// Timing: a transfer is cut into packets of at most links.max_packet_bytes. A packet of b bytes
// holds a link for t = 8 b / gbit_per_s; it has crossed it latency_ns after that (serializer and
// deserializer), and only then can the next link of its route take it. Each link has its own
// Timeline (contention per link), so the next packet of a transfer follows the first one link
// behind. A multicast (links.multicast) is relayed along the XY tree to all its destinations:
// each link of the tree once, after the link that brought the packet to its sending tile.
// A transfer between blocks at the same place (the host's DMA into the SRAM) crosses no link and
// takes no time here.
//
// Energy: 8 bits per payload byte per link crossed, at e_bit_pj plus e_wire_bit_mm_pj per mm (a
// link spans one tile pitch). Static: p_static_uw_per_link per link; area area_um2_per_link each.
#pragma once

#include <cstdint>
#include <vector>

#include "config/platform_config.h"
#include "sim/grid_interconnect.h"

namespace aimc::sim {

class Links final : public GridInterconnect {
 public:
  Links(const sc_core::sc_module_name& name, const config::LinksConfig& cfg, int rows, int cols,
        EnergyLedger& ledger, TraceSink& trace);

  // Time a transfer of `bytes` from src to dst takes when no other uses the links.
  uint64_t occupancy_ps(const Endpoint& src, const Endpoint& dst, uint64_t bytes) const override;
  const char* kind() const override { return "links"; }
  bool multicast() const override { return cfg_.multicast; }
  double area_um2() const override { return cfg_.area_um2_per_link * topo_.link_count() / 2.0; }
  uint64_t packet_ps(uint64_t bytes) const;  // one packet's bits on one link

 private:
  Grant book(const Endpoint& src, const Endpoint* dsts, size_t ndst, uint64_t bytes, uint64_t arrival_ps,
             uint64_t now_ps, Phase phase) override;

  config::LinksConfig cfg_;
  uint64_t latency_ps_;
  std::vector<uint64_t> at_node_;  // when the packet is whole at each node (booking one packet)
};

}  // namespace aimc::sim
