// A 2D mesh network on chip (interconnect.kind mesh): a router per tile, links to its four
// neighbours, and a port router below the grid's foot for the SRAM, the host interface, the
// sequencer and the programming controller (sim/mesh_topology.h: the shape and XY routing).
// The base class (sim/interconnect.h) owns decoding, error responses, energy posting and the trace.
//
// Timing (wormhole switching, contention per link, ARCHITECTURE rule 2): a transfer is cut into
// packets of at most mesh.max_packet_bytes; a packet of b bytes is f = 1 + ceil(b / width_bytes)
// flits (a head flit, then the payload) and holds each link of its route for f cycles. Its head
// spends hop_cycles in every router it crosses, so the link at depth d (d links before it) is held
// from s + (d + 1) hop to s + (d + 1) hop + f cycles, and the packet has arrived at a destination h
// links away at s + (h + 1) hop + f cycles. s is the first time at or after the packet's arrival
// at which every link of its route is free for its slot (each link has its own Timeline); the
// next packet of the transfer arrives when this one has left the source (s + f cycles).
// A multicast (multicast() true, Route::also) books the XY tree to all its destinations once: each
// link of the tree once, at its depth; it has arrived when its deepest destination has it.
// A transfer between blocks on the same router (the host's DMA into the SRAM, both at the port)
// crosses that router only: (0 + 1) hop + f cycles, no link.
//
// Energy: 8 bits per payload byte, per router crossed (a tree of L links crosses L + 1) at
// e_bit_hop_pj, and per mm of link at e_wire_bit_mm_pj (a link spans one tile pitch of the
// floorplan). Static: p_static_uw_per_router for each router. Area: router_area_um2 each (the
// links route over the tiles).
#pragma once

#include <cstdint>

#include "config/platform_config.h"
#include "sim/grid_interconnect.h"

namespace aimc::sim {

class Mesh final : public GridInterconnect {
 public:
  Mesh(const sc_core::sc_module_name& name, const config::MeshConfig& cfg, int rows, int cols,
       EnergyLedger& ledger, TraceSink& trace);

  // Time a transfer of `bytes` from src to dst takes on an idle network.
  uint64_t occupancy_ps(const Endpoint& src, const Endpoint& dst, uint64_t bytes) const override;
  const char* kind() const override { return "mesh"; }
  bool multicast() const override { return cfg_.multicast; }
  double area_um2() const override { return cfg_.router_area_um2 * topo_.routers(); }
  uint64_t hop_ps() const { return hop_ps_; }
  uint64_t flits_ps(uint64_t bytes) const;  // one packet's flits (head + payload) on one link

 private:
  Grant book(const Endpoint& src, const Endpoint* dsts, size_t ndst, uint64_t bytes, uint64_t arrival_ps,
             uint64_t now_ps, Phase phase) override;
  // Books one packet on hops_ (the route or tree) from `arrival_ps`; returns its start s.
  uint64_t book_packet(uint64_t arrival_ps, uint64_t now_ps, uint64_t hold_ps, Phase phase);

  config::MeshConfig cfg_;
  uint64_t hop_ps_;
  double cycle_ps_;
};

}  // namespace aimc::sim
