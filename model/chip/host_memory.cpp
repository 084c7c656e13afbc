#include "chip/host_memory.h"

#include <cmath>
#include <cstring>

#include "sim/accounting.h"

namespace aimc::chip {

namespace {
constexpr uint32_t kFirstAddress = 0x1000;  // keeps 0 free as "no buffer"
constexpr uint64_t kAlign = 64;
}  // namespace

HostMemory::HostMemory(sc_core::sc_module_name name, uint64_t size_bytes,
                       const config::HostConfig& cfg, sim::EnergyLedger& ledger)
    : sc_module(name),
      tsock("tsock"),
      mem_(size_bytes),
      cfg_(cfg),
      ledger_(ledger),
      c_host_(ledger.component("host")) {
  tsock.register_b_transport(this, &HostMemory::b_transport);
  tsock.register_transport_dbg(this, &HostMemory::transport_dbg);
}

std::optional<uint32_t> HostMemory::allocate(uint64_t bytes) {
  if (bytes == 0) bytes = 1;
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;
  uint64_t cursor = kFirstAddress;
  for (const auto& [start, size] : used_) {
    if (start >= cursor + bytes) break;
    cursor = std::max<uint64_t>(cursor, start + size);
  }
  if (cursor + bytes > mem_.size()) return std::nullopt;
  used_[static_cast<uint32_t>(cursor)] = bytes;
  return static_cast<uint32_t>(cursor);
}

void HostMemory::release(uint32_t addr) { used_.erase(addr); }

void HostMemory::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  if (mem_.access(gp) != tlm::TLM_OK_RESPONSE) return;
  const unsigned len = gp.get_data_length();
  const uint64_t now = sim::to_ps(sc_core::sc_time_stamp() + delay);
  const uint64_t dur = static_cast<uint64_t>(std::ceil(len / cfg_.dma_bytes_per_ns * 1000.0));
  const uint64_t start = link_.reserve(now, dur);
  // No request starts before kernel time: forget what ended before it now and then, so that the
  // calendar of a long-running chip (`aimc serve`) stays small (as the bus's).
  if ((link_.reservations() & 1023u) == 0) link_.forget_before(sim::to_ps(sc_core::sc_time_stamp()));
  delay += sim::ps_to_time(start + dur - now);
  const sim::Accounting acct = sim::accounting_of(gp, ledger_.phase());
  if (acct.charge)
    ledger_.post(c_host_, acct.layer, acct.phase, len * cfg_.e_dma_byte_pj * 1e-12, len);
}

unsigned int HostMemory::transport_dbg(tlm::tlm_generic_payload& gp) { return mem_.debug(gp); }

}  // namespace aimc::chip
