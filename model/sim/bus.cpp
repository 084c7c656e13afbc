#include "sim/bus.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/accounting.h"

namespace aimc::sim {

SharedBus::SharedBus(const sc_core::sc_module_name& name, const config::BusConfig& cfg,
                     EnergyLedger& ledger, TraceSink& trace)
    : sc_core::sc_module(name),
      tsock("tsock"),
      isock("isock"),
      cfg_(cfg),
      ledger_(ledger),
      trace_(trace),
      comp_(ledger.component("bus")),
      track_(trace.track(basename())) {
  if (cfg.width_bytes <= 0 || !(cfg.clock_mhz > 0.0) || !(cfg.latency_ns >= 0.0) ||
      !(cfg.e_byte_pj >= 0.0) || !(cfg.p_static_uw >= 0.0)) {
    throw std::invalid_argument(std::string(this->name()) +
                                ": bus config needs width_bytes > 0, clock_mhz > 0 and "
                                "non-negative latency, energy and power");
  }
  latency_ps_ = ns_to_ps(cfg.latency_ns);
  cycle_ps_ = 1e6 / cfg.clock_mhz;
  e_byte_j_ = cfg.e_byte_pj * 1e-12;
  ledger_.set_static_power(comp_, cfg.p_static_uw * 1e-6);

  tsock.register_b_transport(this, &SharedBus::b_transport);
  tsock.register_transport_dbg(this, &SharedBus::transport_dbg);
  tsock.register_get_direct_mem_ptr(this, &SharedBus::get_direct_mem_ptr);
  isock.register_invalidate_direct_mem_ptr(this, &SharedBus::invalidate_direct_mem_ptr);
}

void SharedBus::map(int port, uint64_t base, uint64_t size, std::string name) {
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
  Region r{port, base, size, name, "rd " + name, "wr " + name};
  const auto pos = std::lower_bound(regions_.begin(), regions_.end(), base,
                                    [](const Region& a, uint64_t b) { return a.base < b; });
  regions_.insert(pos, std::move(r));
}

const SharedBus::Region* SharedBus::decode(uint64_t address) const {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), address,
                             [](uint64_t a, const Region& r) { return a < r.base; });
  if (it == regions_.begin()) return nullptr;
  --it;
  return address - it->base < it->size ? &*it : nullptr;
}

const SharedBus::Region* SharedBus::decode_range(uint64_t address, uint64_t length) const {
  const Region* r = decode(address);
  if (r == nullptr) return nullptr;
  const uint64_t offset = address - r->base;
  return length <= r->size - offset ? r : nullptr;
}

uint64_t SharedBus::burst_ps(uint64_t bytes) const {
  const uint64_t width = static_cast<uint64_t>(cfg_.width_bytes);
  const uint64_t cycles = (bytes + width - 1) / width;
  return latency_ps_ + static_cast<uint64_t>(std::llround(static_cast<double>(cycles) * cycle_ps_));
}

uint64_t SharedBus::occupancy_ps(uint64_t bytes) const {
  const uint64_t burst = static_cast<uint64_t>(cfg_.max_burst_bytes);
  if (bytes <= burst) return burst_ps(bytes);
  const uint64_t rest = bytes % burst;
  return (bytes / burst) * burst_ps(burst) + (rest ? burst_ps(rest) : 0);
}

void SharedBus::end_of_elaboration() {
  for (const Region& r : regions_) {
    if (static_cast<unsigned>(r.port) >= isock.size()) {
      SC_REPORT_ERROR(name(), ("region '" + r.name + "' is mapped to port " +
                               std::to_string(r.port) + " but only " +
                               std::to_string(isock.size()) + " targets are bound")
                                  .c_str());
    }
  }
}

void SharedBus::b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
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

  // No request can start before the present: old bookings only slow the gap search.
  if ((timeline_.reservations() & 1023u) == 0) timeline_.forget_before(now_ps);
  // Arbitration per burst: a transfer longer than max_burst_bytes is granted burst by burst, each
  // in the first free slot after the previous one, so other masters' bursts interleave with it.
  const uint64_t burst = static_cast<uint64_t>(cfg_.max_burst_bytes);
  uint64_t left = length, t = arrival_ps, start_ps = 0;
  uint32_t bursts = 0;
  do {
    const uint64_t n = std::min(left, burst);
    const uint64_t d = burst_ps(n);
    const uint64_t s = timeline_.reserve(t, d);
    if (bursts++ == 0) start_ps = s;
    t = s + d;
    left -= n;
  } while (left > 0);
  const uint64_t end_ps = t;
  // The initiator's local time now runs to the end of its bus occupancy; the target adds its own
  // latency on top. The bus never waits: contention is in the returned delay.
  delay = ps_to_time(end_ps - now_ps);

  gp.set_address(address - r->base);
  isock[r->port]->b_transport(gp, delay);
  gp.set_address(address);
  gp.set_dmi_allowed(false);  // DMI is not offered through the bus

  ++transfers_;
  const bool moved = gp.is_response_ok() && gp.get_command() != tlm::TLM_IGNORE_COMMAND;
  double energy_j = 0.0;
  const Accounting acct = accounting_of(gp, default_phase_.value_or(ledger_.phase()));
  if (moved) {
    bytes_moved_ += length;
    if (acct.charge) {
      energy_j = e_byte_j_ * static_cast<double>(length);
      ledger_.post(comp_, acct.layer, acct.phase, energy_j, length);
    }
  }
  if (trace_.enabled()) {
    const std::string& span_name = gp.is_read() ? r->read_span : r->write_span;
    trace_.span(track_, span_name, start_ps, end_ps - start_ps,
                {{"bytes", length},
                 {"bursts", bursts},
                 {"energy_pj", energy_j * 1e12},
                 {"wait_ns", static_cast<double>(end_ps - arrival_ps - occupancy_ps(length)) * 1e-3},
                 {"port", id},
                 {"layer", ledger_.layer_name(acct.layer)},
                 {"status", gp.is_response_ok() ? "ok" : "error"}});
  }
}

unsigned int SharedBus::transport_dbg(int id, tlm::tlm_generic_payload& gp) {
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

bool SharedBus::get_direct_mem_ptr(int id, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
  // Denied for the whole address space: a DMI pointer would bypass bus contention and energy.
  dmi.init();
  dmi.set_start_address(0);
  dmi.set_end_address(std::numeric_limits<sc_dt::uint64>::max());
  dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_NONE);
  return false;
}

void SharedBus::invalidate_direct_mem_ptr(int id, sc_dt::uint64 start, sc_dt::uint64 end) {
  // No pointers are handed out through the bus, but pass invalidations on (translated to global
  // addresses) so that a later change to DMI policy stays correct.
  for (const Region& r : regions_) {
    if (r.port != id || start >= r.size) continue;
    const sc_dt::uint64 last = std::min<sc_dt::uint64>(end, r.size - 1);
    for (unsigned i = 0; i < tsock.size(); ++i) {
      tsock[i]->invalidate_direct_mem_ptr(r.base + start, r.base + last);
    }
  }
}

}  // namespace aimc::sim
