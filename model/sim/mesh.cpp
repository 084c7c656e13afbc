#include "sim/mesh.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/accounting.h"

namespace aimc::sim {

Mesh::Mesh(const sc_core::sc_module_name& name, const config::MeshConfig& cfg, int rows, int cols,
           EnergyLedger& ledger, TraceSink& trace)
    : GridInterconnect(name, rows, cols, ledger, trace, "noc"), cfg_(cfg) {
  if (cfg.width_bytes <= 0 || !(cfg.clock_mhz > 0.0) || cfg.hop_cycles <= 0 || cfg.max_packet_bytes <= 0 ||
      !(cfg.e_bit_hop_pj >= 0.0) || !(cfg.e_wire_bit_mm_pj >= 0.0) || !(cfg.p_static_uw_per_router >= 0.0) ||
      !(cfg.router_area_um2 >= 0.0)) {
    throw std::invalid_argument(std::string(this->name()) +
                                ": mesh config needs width_bytes, clock_mhz, hop_cycles and "
                                "max_packet_bytes > 0 and non-negative energies, power and area");
  }
  cycle_ps_ = 1e6 / cfg.clock_mhz;
  hop_ps_ = static_cast<uint64_t>(std::llround(cfg.hop_cycles * cycle_ps_));
  ledger_.set_static_power(ledger_component(), cfg.p_static_uw_per_router * 1e-6 * topo_.routers());
}

uint64_t Mesh::flits_ps(uint64_t bytes) const {
  const uint64_t w = static_cast<uint64_t>(cfg_.width_bytes);
  return static_cast<uint64_t>(std::llround(static_cast<double>(1 + (bytes + w - 1) / w) * cycle_ps_));
}

uint64_t Mesh::occupancy_ps(const Endpoint& src, const Endpoint& dst, uint64_t bytes) const {
  std::vector<MeshTopology::Hop> hops;
  topo_.route(node_of(src), node_of(dst), hops);
  const uint64_t packet = static_cast<uint64_t>(cfg_.max_packet_bytes);
  const uint64_t full = bytes / packet, rest = bytes % packet;
  // Packets leave the source back to back; the last arrives h + 1 hops after it left.
  const uint64_t inject = full * flits_ps(packet) + (rest || full == 0 ? flits_ps(rest) : 0);
  return inject + (hops.size() + 1) * hop_ps_;
}

uint64_t Mesh::book_packet(uint64_t arrival_ps, uint64_t now_ps, uint64_t hold_ps, Phase phase) {
  // The first start at which every link of the route is free for its slot: move the start past
  // each link's conflict until none is left (the start only grows, and each Timeline is finite).
  uint64_t s = arrival_ps;
  for (bool moved = true; moved;) {
    moved = false;
    for (const MeshTopology::Hop& h : hops_) {
      const uint64_t at = s + static_cast<uint64_t>(h.depth + 1) * hop_ps_;
      const uint64_t fit = calendar(h.link).first_fit(at, hold_ps);
      if (fit != at) {
        s = fit - static_cast<uint64_t>(h.depth + 1) * hop_ps_;
        moved = true;
      }
    }
  }
  for (const MeshTopology::Hop& h : hops_) hold(h.link, s + static_cast<uint64_t>(h.depth + 1) * hop_ps_, hold_ps, now_ps, phase);
  busy_ps_ += hold_ps * hops_.size();
  wait_ps_ += s - arrival_ps;
  return s;
}

Mesh::Grant Mesh::book(const Endpoint& src, const Endpoint* dsts, size_t ndst, uint64_t bytes, uint64_t arrival_ps,
                       uint64_t now_ps, Phase phase) {
  const int deepest = plan(src, dsts, ndst);
  const uint64_t packet = static_cast<uint64_t>(cfg_.max_packet_bytes);
  Grant g;
  g.pieces = 0;
  uint64_t left = bytes, t = arrival_ps;
  do {
    const uint64_t n = std::min(left, packet);
    const uint64_t hold = flits_ps(n);
    const uint64_t s = book_packet(t, now_ps, hold, phase);
    if (g.pieces++ == 0) g.start_ps = s;
    g.end_ps = s + static_cast<uint64_t>(deepest + 1) * hop_ps_ + hold;
    g.busy_ps += hold * hops_.size();
    t = s + hold;  // the next packet follows once this one has left the source
    left -= n;
  } while (left > 0);
  const double links = static_cast<double>(hops_.size());
  g.energy_j = 8.0 * static_cast<double>(bytes) * 1e-12 *
               (cfg_.e_bit_hop_pj * (links + 1.0) + cfg_.e_wire_bit_mm_pj * links * floorplan().tile_pitch_mm);
  return g;
}

}  // namespace aimc::sim
