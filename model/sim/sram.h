// The activation SRAM: a TLM-2.0 LT memory target. Latency per access is added to the caller's
// delay (it never waits); read and write energy per byte go to the ledger under "sram" with the
// layer and phase from the payload's Accounting extension. Misuse is a response: out of range ->
// ADDRESS_ERROR, byte enables -> BYTE_ENABLE_ERROR, streaming width < length -> BURST_ERROR.
// DMI is granted (read/write, with the access latency) to initiators bound directly; DMI accesses
// bypass b_transport, so their users charge energy with account_dmi().
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "config/platform_config.h"
#include "sim/accounting.h"
#include "sim/energy_ledger.h"
#include "sim/sram_cost.h"
#include "sim/trace.h"

namespace aimc::sim {

class Sram : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Sram> tsock;

  Sram(const sc_core::sc_module_name& name, const config::SramConfig& cfg, EnergyLedger& ledger,
       TraceSink& trace);
  Sram(const Sram&) = delete;
  Sram& operator=(const Sram&) = delete;

  uint64_t size_bytes() const { return mem_.size(); }
  // Backing store, for tests, loaders and debug.
  uint8_t* data() { return mem_.data(); }
  const uint8_t* data() const { return mem_.data(); }

  // Phase charged when a payload carries no Accounting extension (default: the ledger's phase).
  void set_default_phase(Phase phase) { default_phase_ = phase; }
  // Grant or refuse DMI (granted by default). Turning it off invalidates outstanding pointers.
  void set_dmi_enabled(bool on);
  // Charges the energy of accesses made through a DMI pointer (bytes read or written).
  void account_dmi(tlm::tlm_command cmd, uint64_t bytes, const Accounting& acct);

  uint64_t latency_ps() const { return latency_ps_; }
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t bytes_written() const { return bytes_written_; }
  int ledger_component() const { return comp_; }
  const SramCost& cost() const { return cost_; }  // energies per byte, leakage, area (sram_cost.h)

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
  double charge(tlm::tlm_command cmd, uint64_t bytes, const Accounting& acct);

  std::vector<uint8_t> mem_;
  config::SramConfig cfg_;
  EnergyLedger& ledger_;
  TraceSink& trace_;
  int comp_;
  int track_;
  uint64_t latency_ps_;
  SramCost cost_;
  std::optional<Phase> default_phase_;
  bool dmi_enabled_ = true;
  uint64_t bytes_read_ = 0;
  uint64_t bytes_written_ = 0;
};

}  // namespace aimc::sim
