#include "sim/grid_interconnect.h"

#include <stdexcept>

namespace aimc::sim {

GridInterconnect::GridInterconnect(const sc_core::sc_module_name& name, int rows, int cols, EnergyLedger& ledger,
                                   TraceSink& trace, const char* component)
    : Interconnect(name, ledger, trace, component), topo_(rows, cols) {
  links_.resize(static_cast<size_t>(topo_.link_count()));
  link_busy_.resize(links_.size());
}

int GridInterconnect::node_of(const Endpoint& e) const {
  if (e.kind != Endpoint::Kind::tile) return topo_.port_node();
  if (e.index < 0 || e.index >= topo_.port_node()) {
    throw std::out_of_range(std::string(name()) + ": " + to_string(e) + " is not on the " +
                            std::to_string(topo_.rows()) + " x " + std::to_string(topo_.cols()) + " grid");
  }
  return e.index;
}

double GridInterconnect::wire_mm(const Endpoint& src, const Endpoint& dst) const {
  std::vector<MeshTopology::Hop> hops;
  topo_.route(node_of(src), node_of(dst), hops);
  return static_cast<double>(hops.size()) * floorplan().tile_pitch_mm;
}

InterconnectStats GridInterconnect::stats() const {
  InterconnectStats s{transfers(), bytes_moved(), busy_ps_, wait_ps_, busy_ps_by_phase(), {}};
  s.links.reserve(links_.size());
  for (size_t l = 0; l < links_.size(); ++l) s.links.push_back({topo_.link_name(static_cast<int>(l)), link_busy_[l]});
  return s;
}

int GridInterconnect::plan(const Endpoint& src, const Endpoint* dsts, size_t ndst) {
  nodes_.clear();
  for (size_t i = 0; i < ndst; ++i) nodes_.push_back(node_of(dsts[i]));
  hops_.clear();
  return topo_.tree(node_of(src), nodes_.data(), nodes_.size(), hops_);
}

uint64_t GridInterconnect::hold(int link, uint64_t start_ps, uint64_t hold_ps, uint64_t now_ps, Phase phase) {
  Timeline& tl = links_[static_cast<size_t>(link)];
  if ((tl.reservations() & 1023u) == 0) tl.forget_before(now_ps);  // no booking starts before now
  link_busy_[static_cast<size_t>(link)][static_cast<size_t>(phase)] += hold_ps;
  return tl.reserve(start_ps, hold_ps);
}

}  // namespace aimc::sim
