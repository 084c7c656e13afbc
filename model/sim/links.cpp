#include "sim/links.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace aimc::sim {

Links::Links(const sc_core::sc_module_name& name, const config::LinksConfig& cfg, int rows, int cols,
             EnergyLedger& ledger, TraceSink& trace)
    : GridInterconnect(name, rows, cols, ledger, trace, "links"), cfg_(cfg) {
  if (!(cfg.gbit_per_s > 0.0) || !(cfg.latency_ns >= 0.0) || cfg.max_packet_bytes <= 0 || !(cfg.e_bit_pj >= 0.0) ||
      !(cfg.e_wire_bit_mm_pj >= 0.0) || !(cfg.p_static_uw_per_link >= 0.0) || !(cfg.area_um2_per_link >= 0.0)) {
    throw std::invalid_argument(std::string(this->name()) +
                                ": links config needs gbit_per_s > 0, max_packet_bytes > 0 and "
                                "non-negative latency, energies, power and area");
  }
  latency_ps_ = static_cast<uint64_t>(std::llround(cfg.latency_ns * 1e3));
  at_node_.assign(static_cast<size_t>(topo_.routers()), 0);
  // A link is the pair of one-way lanes between two neighbours.
  ledger_.set_static_power(ledger_component(), cfg.p_static_uw_per_link * 1e-6 * topo_.link_count() / 2.0);
}

uint64_t Links::packet_ps(uint64_t bytes) const {
  return static_cast<uint64_t>(std::llround(8.0 * static_cast<double>(bytes) / cfg_.gbit_per_s * 1e3));
}

uint64_t Links::occupancy_ps(const Endpoint& src, const Endpoint& dst, uint64_t bytes) const {
  std::vector<MeshTopology::Hop> hops;
  topo_.route(node_of(src), node_of(dst), hops);
  // Store and forward on free links: packet k crosses link i once it has crossed link i - 1 and
  // packet k - 1 has left link i.
  std::vector<uint64_t> free(hops.size(), 0);
  const uint64_t packet = static_cast<uint64_t>(cfg_.max_packet_bytes);
  uint64_t left = bytes, done = 0;
  do {
    const uint64_t held = packet_ps(std::min(left, packet));
    uint64_t at = 0;
    for (size_t i = 0; i < hops.size(); ++i) {
      const uint64_t s = std::max(at, free[i]);
      free[i] = s + held;
      at = s + held + latency_ps_;
    }
    done = std::max(done, at);
    left -= std::min(left, packet);
  } while (left > 0);
  return done;
}

Links::Grant Links::book(const Endpoint& src, const Endpoint* dsts, size_t ndst, uint64_t bytes, uint64_t arrival_ps,
                         uint64_t now_ps, Phase phase) {
  plan(src, dsts, ndst);
  const int from = node_of(src);
  // Relay order: a link after the one that brings the packet to its sending tile (by depth).
  std::stable_sort(hops_.begin(), hops_.end(), [](const auto& a, const auto& b) { return a.depth < b.depth; });
  const uint64_t packet = static_cast<uint64_t>(cfg_.max_packet_bytes);
  Grant g;
  g.pieces = 0;
  g.start_ps = std::numeric_limits<uint64_t>::max();
  g.end_ps = arrival_ps;
  uint64_t left = bytes, t = arrival_ps;
  do {
    const uint64_t n = std::min(left, packet);
    const uint64_t held = packet_ps(n);
    at_node_[static_cast<size_t>(from)] = t;
    uint64_t left_source = t;
    for (const MeshTopology::Hop& h : hops_) {
      const auto [a, b] = topo_.link_ends(h.link);
      const uint64_t ready = at_node_[static_cast<size_t>(a)];
      const uint64_t s = hold(h.link, ready, held, now_ps, phase);
      wait_ps_ += s - ready;
      if (a == from) left_source = std::max(left_source, s + held);
      at_node_[static_cast<size_t>(b)] = s + held + latency_ps_;
      g.start_ps = std::min(g.start_ps, s);
      g.busy_ps += held;
    }
    for (int d : nodes_) g.end_ps = std::max(g.end_ps, at_node_[static_cast<size_t>(d)]);
    ++g.pieces;
    t = left_source;  // the next packet leaves the source when this one has
    left -= n;
  } while (left > 0);
  if (g.start_ps == std::numeric_limits<uint64_t>::max()) g.start_ps = arrival_ps;  // no link crossed
  busy_ps_ += g.busy_ps;
  const double links = static_cast<double>(hops_.size());
  g.energy_j = 8.0 * static_cast<double>(bytes) * 1e-12 * links *
               (cfg_.e_bit_pj + cfg_.e_wire_bit_mm_pj * floorplan().tile_pitch_mm);
  return g;
}

}  // namespace aimc::sim
