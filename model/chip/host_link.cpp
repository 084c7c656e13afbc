#include "chip/host_link.h"

#include <cmath>

#include "sim/accounting.h"

namespace aimc::chip {

HostLink::HostLink(sc_core::sc_module_name name, const config::HostConfig& cfg,
                   sim::EnergyLedger& ledger)
    : sc_module(name), tsock("tsock"), isock("isock"), cfg_(cfg), ledger_(ledger),
      c_host_(ledger.component("host")) {
  tsock.register_b_transport(this, &HostLink::b_transport);
  tsock.register_transport_dbg(this, &HostLink::transport_dbg);
}

void HostLink::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  // The memory answers first (in zero time): an access it refuses costs the link nothing.
  sc_core::sc_time mem_delay = sc_core::SC_ZERO_TIME;
  isock->b_transport(gp, mem_delay);
  if (!gp.is_response_ok()) return;
  const unsigned len = gp.get_data_length();
  const uint64_t now = sim::to_ps(sc_core::sc_time_stamp() + delay + mem_delay);
  const uint64_t dur = static_cast<uint64_t>(std::ceil(len / cfg_.dma_bytes_per_ns * 1000.0));
  const uint64_t start = link_.reserve(now, dur);
  // No request starts before kernel time: forget what ended before it now and then, so that the
  // calendar of a long-running chip (`aimc serve`) stays small (as the bus's).
  if ((link_.reservations() & 1023u) == 0) link_.forget_before(sim::to_ps(sc_core::sc_time_stamp()));
  delay += mem_delay + sim::ps_to_time(start + dur - now);
  const sim::Accounting acct = sim::accounting_of(gp, ledger_.phase());
  if (acct.charge)
    ledger_.post(c_host_, acct.layer, acct.phase, len * cfg_.e_dma_byte_pj * 1e-12, len);
}

unsigned int HostLink::transport_dbg(tlm::tlm_generic_payload& gp) {
  return isock->transport_dbg(gp);
}

}  // namespace aimc::chip
