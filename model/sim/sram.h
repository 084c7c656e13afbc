// The activation SRAM: a TLM-2.0 LT memory target. Latency per access is added to the caller's
// delay (it never waits); read and write energy per byte go to the ledger under "sram" with the
// layer and phase from the payload's Accounting extension. Misuse is a response: out of range ->
// ADDRESS_ERROR, byte enables -> BYTE_ENABLE_ERROR, streaming width < length -> BURST_ERROR.
// DMI is granted (read/write, with the access latency) to initiators bound directly; DMI accesses
// bypass b_transport, so their users charge energy with account_dmi().
//
// STANDBY (sram.standby; docs/chip-model.md, "Power states"). The SRAM is banks of sram.bank_kib
// (the last one may be smaller). A bank is IN USE once anything has been written to it (a write
// transaction, a debug write, or a read-write DMI grant, which marks every bank: DMI writes are not
// seen; nor are writes through data(), the backing store for tests) and until it is gated; the
// chip cannot know what firmware still needs, only what it wrote.
// set_standby(true, t) sets the SRAM's static power from t on, with L = sram.p_static_uw_per_kib and
// f = sram.retention_leakage_rel:
//   powered      size_kib * L                 every bank at full supply (contents kept)
//   retain       size_kib * L * f             every bank at its retention voltage (contents kept)
//   gate_unused  in_use_kib * L * f           banks in use retained, the others gated (their contents
//                                             were the reset zeros and stay so)
//   gate_all     0                            every bank gated: contents lost, zeros after wake-up
// Gating clears a bank (zeros) and its in-use mark; its power switch is taken not to leak. The
// preset's f = 0.1: an SRAM held at its data-retention voltage saves more than 90 % of its leakage
// (Qin et al., ISQED 2004). set_standby(false, t) restores size_kib * L.
// Except with `powered`, the banks cannot be accessed in STANDBY: a transaction is answered with
// TLM_COMMAND_ERROR_RESPONSE (nothing read, written or charged), DMI is refused and pointers given
// out before are invalidated; debug access still works (reads of a gated bank return zeros).
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

  // Power state (see the top of this file). t_ps: when the change takes effect, >= the ledger's time.
  void set_standby(bool standby, uint64_t t_ps);
  bool standby() const { return standby_; }
  int banks() const { return static_cast<int>(in_use_.size()); }
  bool bank_in_use(int bank) const { return in_use_.at(static_cast<size_t>(bank)) != 0; }
  double in_use_kib() const;  // KiB of the banks in use
  // The static power the SRAM declares in STANDBY with the banks in use now (W).
  double standby_power_w() const;

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
  double charge(tlm::tlm_command cmd, uint64_t bytes, const Accounting& acct);
  void mark_written(uint64_t address, uint64_t length);
  double bank_kib(size_t bank) const;
  bool locked() const { return standby_ && cfg_.standby != config::SramStandby::powered; }

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
  uint64_t bank_bytes_ = 0;
  std::vector<uint8_t> in_use_;  // per bank: written since power-up or since it was last gated
  bool standby_ = false;
};

}  // namespace aimc::sim
