// Who pays for a transaction: a TLM generic-payload extension that initiators attach so that
// targets (bus, SRAM, tiles) charge energy to the right layer and phase, plus the ps <-> sc_time
// helpers the SystemC modules share.
#pragma once

#include <cstdint>
#include <optional>

#include <systemc>
#include <tlm>

#include "sim/energy_ledger.h"

namespace aimc::sim {

struct Accounting : tlm::tlm_extension<Accounting> {
  int layer = EnergyLedger::kNoLayer;  // ledger layer id
  Phase phase = Phase::infer;
  int track = -1;                      // initiator's trace track (-1: none), for cross-references
  bool charge = true;                  // false: move the data but post no energy (e.g. preloads)

  Accounting() = default;
  Accounting(int layer_id, Phase p, int track_id = -1, bool charge_energy = true)
      : layer(layer_id), phase(p), track(track_id), charge(charge_energy) {}

  tlm::tlm_extension_base* clone() const override { return new Accounting(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const Accounting&>(other);
  }
};

// The payload's Accounting, or {layer 0, default_phase} when the initiator attached none.
inline Accounting accounting_of(const tlm::tlm_generic_payload& gp, Phase default_phase) {
  if (const Accounting* a = gp.get_extension<Accounting>()) return *a;
  return Accounting(EnergyLedger::kNoLayer, default_phase);
}

// sc_time <-> integer picoseconds, independent of the kernel's time resolution.
inline uint64_t to_ps(const sc_core::sc_time& t) {
  const double res_ps = sc_core::sc_get_time_resolution().to_seconds() * 1e12;
  if (res_ps >= 1.0) return t.value() * static_cast<uint64_t>(res_ps + 0.5);
  return t.value() / static_cast<uint64_t>(1.0 / res_ps + 0.5);
}
inline sc_core::sc_time ps_to_time(uint64_t ps) {
  return sc_core::sc_time(static_cast<double>(ps), sc_core::SC_PS);
}
// A duration in nanoseconds (from config) as integer picoseconds, rounded to nearest.
inline uint64_t ns_to_ps(double ns) { return static_cast<uint64_t>(ns * 1000.0 + 0.5); }

}  // namespace aimc::sim
