#include "sim/interconnect.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "sim/accounting.h"

namespace aimc::sim {

std::string to_string(const Endpoint& e) {
  switch (e.kind) {
    case Endpoint::Kind::host: return "host";
    case Endpoint::Kind::sequencer: return "sequencer";
    case Endpoint::Kind::programmer: return "programmer";
    case Endpoint::Kind::sram: return "sram";
    case Endpoint::Kind::tile: return "tile" + std::to_string(e.index);
    case Endpoint::Kind::gdpu: return "gdpu";
    case Endpoint::Kind::none: break;
  }
  return "none";
}

Interconnect::Interconnect(const sc_core::sc_module_name& name, EnergyLedger& ledger,
                           TraceSink& trace, const char* component)
    : sc_core::sc_module(name),
      tsock("tsock"),
      isock("isock"),
      ledger_(ledger),
      trace_(trace),
      comp_(ledger.component(component)),
      track_(trace.track(basename())) {
  tsock.register_b_transport(this, &Interconnect::b_transport);
  tsock.register_transport_dbg(this, &Interconnect::transport_dbg);
  tsock.register_get_direct_mem_ptr(this, &Interconnect::get_direct_mem_ptr);
  isock.register_invalidate_direct_mem_ptr(this, &Interconnect::invalidate_direct_mem_ptr);
}

void Interconnect::map(int port, uint64_t base, uint64_t size, std::string name, Endpoint endpoint) {
  const std::string who = std::string(this->name()) + ": map '" + name + "'";
  if (port < 0) throw std::invalid_argument(who + ": negative port");
  if (size == 0) throw std::invalid_argument(who + ": empty region");
  if (base > std::numeric_limits<uint64_t>::max() - size + 1) {
    throw std::invalid_argument(who + ": region wraps past the end of the address space");
  }
  for (const Region& r : regions_) {
    // Both regions are [base, base + size - 1]; compare inclusive ends to avoid overflow.
    if (base <= r.base + (r.size - 1) && r.base <= base + (size - 1)) {
      throw std::invalid_argument(who + " overlaps region '" + r.name + "'");
    }
  }
  Region r{port, base, size, name, endpoint, "rd " + name, "wr " + name};
  const auto pos = std::lower_bound(regions_.begin(), regions_.end(), base,
                                    [](const Region& a, uint64_t b) { return a.base < b; });
  regions_.insert(pos, std::move(r));
}

void Interconnect::set_initiator_endpoint(int id, Endpoint endpoint) {
  if (id < 0) throw std::invalid_argument(std::string(name()) + ": negative initiator index");
  if (initiators_.size() <= static_cast<size_t>(id)) initiators_.resize(static_cast<size_t>(id) + 1);
  initiators_[static_cast<size_t>(id)] = endpoint;
}

const Interconnect::Region* Interconnect::decode(uint64_t address) const {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), address,
                             [](uint64_t a, const Region& r) { return a < r.base; });
  if (it == regions_.begin()) return nullptr;
  --it;
  return address - it->base < it->size ? &*it : nullptr;
}

const Interconnect::Region* Interconnect::decode_range(uint64_t address, uint64_t length) const {
  const Region* r = decode(address);
  if (r == nullptr) return nullptr;
  const uint64_t offset = address - r->base;
  return length <= r->size - offset ? r : nullptr;
}

void Interconnect::end_of_elaboration() {
  for (const Region& r : regions_) {
    if (static_cast<unsigned>(r.port) >= isock.size()) {
      SC_REPORT_ERROR(name(), ("region '" + r.name + "' is mapped to port " +
                               std::to_string(r.port) + " but only " +
                               std::to_string(isock.size()) + " targets are bound")
                                  .c_str());
    }
  }
}

void Interconnect::b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const uint64_t address = gp.get_address();
  const uint64_t length = gp.get_data_length();
  const uint64_t now_ps = to_ps(sc_core::sc_time_stamp());
  const uint64_t arrival_ps = now_ps + to_ps(delay);

  const Region* r = decode_range(address, length);
  if (r == nullptr) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    if (trace_.enabled()) {
      trace_.instant(track_, "decode error", arrival_ps,
                     {{"address", address}, {"bytes", length}, {"port", id}});
    }
    return;
  }

  Endpoint src = static_cast<size_t>(id) < initiators_.size() ? initiators_[static_cast<size_t>(id)]
                                                              : Endpoint{};
  dsts_.assign(1, r->endpoint);
  if (const Route* route = gp.get_extension<Route>()) {
    src = route->src;
    dsts_[0] = route->dst;
    dsts_.insert(dsts_.end(), route->also.begin(), route->also.end());
  }
  const Accounting acct = accounting_of(gp, default_phase_.value_or(ledger_.phase()));
  Grant g;
  if (dsts_.size() == 1 || multicast()) {
    g = book(src, dsts_.data(), dsts_.size(), length, arrival_ps, now_ps, acct.phase);
  } else {  // one transfer per destination, each after the previous one
    uint64_t t = arrival_ps;
    for (size_t i = 0; i < dsts_.size(); ++i) {
      const Grant one = book(src, &dsts_[i], 1, length, t, now_ps, acct.phase);
      if (i == 0) g.start_ps = one.start_ps;
      g.pieces = i == 0 ? one.pieces : g.pieces + one.pieces;
      g.end_ps = one.end_ps;
      g.energy_j += one.energy_j;
      g.busy_ps += one.busy_ps;
      t = one.end_ps;
    }
  }
  const Endpoint dst = dsts_[0];
  // The initiator's local time now runs to the end of its occupancy; the target adds its own
  // latency on top. The interconnect never waits: contention is in the returned delay.
  delay = ps_to_time(g.end_ps - now_ps);

  gp.set_address(address - r->base);
  isock[r->port]->b_transport(gp, delay);
  gp.set_address(address);
  gp.set_dmi_allowed(false);  // DMI is not offered through the interconnect

  ++transfers_;
  const bool moved = gp.is_response_ok() && gp.get_command() != tlm::TLM_IGNORE_COMMAND;
  double energy_j = 0.0;
  busy_ps_by_phase_[static_cast<size_t>(acct.phase)] += g.busy_ps;  // held, answered OK or not
  if (moved) {
    bytes_moved_ += length;
    if (acct.charge) {
      energy_j = g.energy_j;
      ledger_.post(comp_, acct.layer, acct.phase, energy_j, length);
    }
  }
  if (trace_.enabled()) {
    const std::string& span_name = gp.is_read() ? r->read_span : r->write_span;
    const uint64_t free_ps = occupancy_ps(src, dst, length);
    trace_.span(track_, span_name, g.start_ps, g.end_ps - g.start_ps,
                {{"bytes", length},
                 {"bursts", g.pieces},
                 {"energy_pj", energy_j * 1e12},
                 {"wait_ns", static_cast<double>(g.end_ps - arrival_ps - free_ps) * 1e-3},
                 {"port", id},
                 {"layer", ledger_.layer_name(acct.layer)},
                 {"status", gp.is_response_ok() ? "ok" : "error"}});
  }
}

unsigned int Interconnect::transport_dbg(int id, tlm::tlm_generic_payload& gp) {
  const uint64_t address = gp.get_address();
  const Region* r = decode(address);
  if (r == nullptr) return 0;
  // Clip to the region so a debug access never spills into a neighbour's address space.
  const uint64_t room = r->size - (address - r->base);
  const unsigned int length = gp.get_data_length();
  if (length > room) gp.set_data_length(static_cast<unsigned int>(room));
  gp.set_address(address - r->base);
  const unsigned int n = isock[r->port]->transport_dbg(gp);
  gp.set_address(address);
  gp.set_data_length(length);
  return n;
}

bool Interconnect::get_direct_mem_ptr(int id, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
  // Denied for the whole address space: a DMI pointer would bypass contention and energy.
  dmi.init();
  dmi.set_start_address(0);
  dmi.set_end_address(std::numeric_limits<sc_dt::uint64>::max());
  dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_NONE);
  return false;
}

void Interconnect::invalidate_direct_mem_ptr(int id, sc_dt::uint64 start, sc_dt::uint64 end) {
  // No pointers are handed out through the interconnect, but pass invalidations on (translated to
  // global addresses) so that a later change to DMI policy stays correct.
  for (const Region& r : regions_) {
    if (r.port != id || start >= r.size) continue;
    const sc_dt::uint64 last = std::min<sc_dt::uint64>(end, r.size - 1);
    for (unsigned i = 0; i < tsock.size(); ++i) {
      tsock[i]->invalidate_direct_mem_ptr(r.base + start, r.base + last);
    }
  }
}

}  // namespace aimc::sim
