#include "sim/links.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace aimc::sim {

Links::Links(const sc_core::sc_module_name& name, const config::LinksConfig& cfg, int rows, int cols,
             EnergyLedger& ledger, TraceSink& trace)
    : Interconnect(name, ledger, trace, "links"), cfg_(cfg), topo_(rows, cols) {
  if (!(cfg.gbit_per_s > 0.0) || !(cfg.latency_ns >= 0.0) || cfg.max_packet_bytes <= 0 || !(cfg.e_bit_pj >= 0.0) ||
      !(cfg.e_wire_bit_mm_pj >= 0.0) || !(cfg.p_static_uw_per_link >= 0.0) || !(cfg.area_um2_per_link >= 0.0)) {
    throw std::invalid_argument(std::string(this->name()) +
                                ": links config needs gbit_per_s > 0, max_packet_bytes > 0 and "
                                "non-negative latency, energies, power and area");
  }
  latency_ps_ = static_cast<uint64_t>(std::llround(cfg.latency_ns * 1e3));
  links_.resize(static_cast<size_t>(topo_.link_count()));
  link_busy_.resize(links_.size());
  at_node_.assign(static_cast<size_t>(topo_.routers()), 0);
  // A link is the pair of one-way lanes between two neighbours.
  ledger_.set_static_power(ledger_component(), cfg.p_static_uw_per_link * 1e-6 * topo_.link_count() / 2.0);
}

int Links::node_of(const Endpoint& e) const {
  if (e.kind != Endpoint::Kind::tile) return topo_.port_node();
  if (e.index < 0 || e.index >= topo_.port_node()) {
    throw std::out_of_range(std::string(name()) + ": " + to_string(e) + " is not on the " +
                            std::to_string(topo_.rows()) + " x " + std::to_string(topo_.cols()) + " grid");
  }
  return e.index;
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
    const uint64_t hold = packet_ps(std::min(left, packet));
    uint64_t at = 0;
    for (size_t i = 0; i < hops.size(); ++i) {
      const uint64_t s = std::max(at, free[i]);
      free[i] = s + hold;
      at = s + hold + latency_ps_;
    }
    done = std::max(done, at);
    left -= std::min(left, packet);
  } while (left > 0);
  return done;
}

double Links::wire_mm(const Endpoint& src, const Endpoint& dst) const {
  std::vector<MeshTopology::Hop> hops;
  topo_.route(node_of(src), node_of(dst), hops);
  return static_cast<double>(hops.size()) * floorplan().tile_pitch_mm;
}

InterconnectStats Links::stats() const {
  InterconnectStats s{transfers(), bytes_moved(), busy_ps_, wait_ps_, busy_ps_by_phase(), {}};
  s.links.reserve(links_.size());
  for (size_t l = 0; l < links_.size(); ++l) s.links.push_back({topo_.link_name(static_cast<int>(l)), link_busy_[l]});
  return s;
}

Links::Grant Links::book(const Endpoint& src, const Endpoint* dsts, size_t ndst, uint64_t bytes, uint64_t arrival_ps,
                         uint64_t now_ps, Phase phase) {
  nodes_.clear();
  for (size_t i = 0; i < ndst; ++i) nodes_.push_back(node_of(dsts[i]));
  hops_.clear();
  const int from = node_of(src);
  topo_.tree(from, nodes_.data(), nodes_.size(), hops_);
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
    const uint64_t hold = packet_ps(n);
    at_node_[static_cast<size_t>(from)] = t;
    uint64_t left_source = t;
    for (const MeshTopology::Hop& h : hops_) {
      const auto [a, b] = topo_.link_ends(h.link);
      Timeline& tl = links_[static_cast<size_t>(h.link)];
      if ((tl.reservations() & 1023u) == 0) tl.forget_before(now_ps);  // no booking starts before now
      const uint64_t ready = at_node_[static_cast<size_t>(a)];
      const uint64_t s = tl.reserve(ready, hold);
      wait_ps_ += s - ready;
      if (a == from) left_source = std::max(left_source, s + hold);
      at_node_[static_cast<size_t>(b)] = s + hold + latency_ps_;
      link_busy_[static_cast<size_t>(h.link)][static_cast<size_t>(phase)] += hold;
      g.start_ps = std::min(g.start_ps, s);
      g.busy_ps += hold;
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
