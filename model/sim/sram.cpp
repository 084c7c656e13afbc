#include "sim/sram.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace aimc::sim {

Sram::Sram(const sc_core::sc_module_name& name, const config::SramConfig& cfg, EnergyLedger& ledger,
           TraceSink& trace)
    : sc_core::sc_module(name),
      tsock("tsock"),
      cfg_(cfg),
      ledger_(ledger),
      trace_(trace),
      comp_(ledger.component("sram")),
      track_(trace.track(basename())) {
  if (cfg.size_kib <= 0 || cfg.bank_kib <= 0 || cfg.ref_bank_kib <= 0 || !(cfg.latency_ns >= 0.0) ||
      !(cfg.e_read_byte_pj >= 0.0) || !(cfg.e_write_byte_pj >= 0.0) || !(cfg.e_wire_bit_mm_pj >= 0.0) ||
      !(cfg.p_static_uw_per_kib >= 0.0) || !(cfg.area_um2_per_kib >= 0.0) ||
      !(cfg.retention_leakage_rel >= 0.0 && cfg.retention_leakage_rel <= 1.0)) {
    throw std::invalid_argument(std::string(this->name()) +
                                ": sram config needs size_kib, bank_kib, ref_bank_kib > 0, "
                                "non-negative latency, energies, power and area, and "
                                "retention_leakage_rel in [0, 1]");
  }
  mem_.assign(static_cast<size_t>(cfg.size_kib) * 1024u, 0);
  bank_bytes_ = static_cast<uint64_t>(cfg.bank_kib) * 1024u;
  in_use_.assign(static_cast<size_t>((mem_.size() + bank_bytes_ - 1) / bank_bytes_), 0);
  latency_ps_ = ns_to_ps(cfg.latency_ns);
  cost_ = sram_cost(cfg);
  ledger_.set_static_power(comp_, cost_.p_static_w);
  tsock.register_b_transport(this, &Sram::b_transport);
  tsock.register_transport_dbg(this, &Sram::transport_dbg);
  tsock.register_get_direct_mem_ptr(this, &Sram::get_direct_mem_ptr);
}

double Sram::charge(tlm::tlm_command cmd, uint64_t bytes, const Accounting& acct) {
  double energy_j = 0.0;
  if (cmd == tlm::TLM_READ_COMMAND) {
    bytes_read_ += bytes;
    energy_j = cost_.e_read_byte_pj * 1e-12 * static_cast<double>(bytes);
  } else if (cmd == tlm::TLM_WRITE_COMMAND) {
    bytes_written_ += bytes;
    energy_j = cost_.e_write_byte_pj * 1e-12 * static_cast<double>(bytes);
  } else {
    return 0.0;
  }
  if (!acct.charge) return 0.0;
  ledger_.post(comp_, acct.layer, acct.phase, energy_j, bytes);
  return energy_j;
}

void Sram::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const uint64_t address = gp.get_address();
  const uint64_t length = gp.get_data_length();
  const tlm::tlm_command cmd = gp.get_command();

  // Check everything first, then act.
  if (address >= mem_.size() || length > mem_.size() - address) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (gp.get_byte_enable_ptr() != nullptr) {
    gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  if (gp.get_streaming_width() < length) {
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  if (locked()) {  // the banks are at their retention voltage or off
    gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  if (cmd == tlm::TLM_IGNORE_COMMAND) {
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }

  if (cmd == tlm::TLM_READ_COMMAND) {
    std::memcpy(gp.get_data_ptr(), mem_.data() + address, length);
  } else {
    std::memcpy(mem_.data() + address, gp.get_data_ptr(), length);
    mark_written(address, length);
  }
  const uint64_t begin_ps = to_ps(sc_core::sc_time_stamp() + delay);
  delay += ps_to_time(latency_ps_);
  const Accounting acct = accounting_of(gp, default_phase_.value_or(ledger_.phase()));
  const double energy_j = charge(cmd, length, acct);
  if (trace_.enabled()) {
    trace_.span(track_, cmd == tlm::TLM_READ_COMMAND ? "rd" : "wr", begin_ps, latency_ps_,
                {{"address", address}, {"bytes", length}, {"energy_pj", energy_j * 1e12}});
  }
  gp.set_dmi_allowed(dmi_enabled_);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned int Sram::transport_dbg(tlm::tlm_generic_payload& gp) {
  const uint64_t address = gp.get_address();
  if (address >= mem_.size()) return 0;
  const uint64_t length = std::min<uint64_t>(gp.get_data_length(), mem_.size() - address);
  if (gp.is_read()) {
    std::memcpy(gp.get_data_ptr(), mem_.data() + address, length);
  } else if (gp.is_write()) {
    std::memcpy(mem_.data() + address, gp.get_data_ptr(), length);
    mark_written(address, length);
  } else {
    return 0;
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  return static_cast<unsigned int>(length);
}

bool Sram::get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
  dmi.init();
  dmi.set_start_address(0);
  dmi.set_end_address(mem_.size() - 1);
  if (!dmi_enabled_ || locked()) {
    dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_NONE);
    return false;
  }
  std::fill(in_use_.begin(), in_use_.end(), 1);  // writes through the pointer are not seen
  dmi.set_dmi_ptr(mem_.data());
  dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_READ_WRITE);
  dmi.set_read_latency(ps_to_time(latency_ps_));
  dmi.set_write_latency(ps_to_time(latency_ps_));
  return true;
}

void Sram::set_dmi_enabled(bool on) {
  // Pointers can only be out once elaboration is over (and the socket is bound).
  const bool elaborating = (sc_core::sc_get_status() &
                            (sc_core::SC_ELABORATION | sc_core::SC_BEFORE_END_OF_ELABORATION)) != 0;
  if (dmi_enabled_ && !on && !elaborating) tsock->invalidate_direct_mem_ptr(0, mem_.size() - 1);
  dmi_enabled_ = on;
}

void Sram::mark_written(uint64_t address, uint64_t length) {
  if (length == 0) return;
  for (uint64_t b = address / bank_bytes_; b <= (address + length - 1) / bank_bytes_; ++b) in_use_[b] = 1;
}

double Sram::bank_kib(size_t bank) const {
  const uint64_t begin = bank * bank_bytes_;
  return static_cast<double>(std::min<uint64_t>(bank_bytes_, mem_.size() - begin)) / 1024.0;
}

double Sram::in_use_kib() const {
  double kib = 0.0;
  for (size_t b = 0; b < in_use_.size(); ++b)
    if (in_use_[b]) kib += bank_kib(b);
  return kib;
}

double Sram::standby_power_w() const {
  const double per_kib_w = cfg_.p_static_uw_per_kib * 1e-6;
  switch (cfg_.standby) {
    case config::SramStandby::powered: return cost_.p_static_w;
    case config::SramStandby::retain: return cfg_.size_kib * per_kib_w * cfg_.retention_leakage_rel;
    case config::SramStandby::gate_unused: return in_use_kib() * per_kib_w * cfg_.retention_leakage_rel;
    case config::SramStandby::gate_all: return 0.0;
  }
  return cost_.p_static_w;
}

void Sram::set_standby(bool standby, uint64_t t_ps) {
  if (standby == standby_ || cfg_.standby == config::SramStandby::powered) {
    standby_ = standby;  // powered: nothing changes but the state
    return;
  }
  if (standby) {
    // Retained banks keep their contents; gated banks lose them (the model's reset value: zeros).
    const bool gate_all = cfg_.standby == config::SramStandby::gate_all;
    for (size_t b = 0; b < in_use_.size(); ++b) {
      if (cfg_.standby == config::SramStandby::retain || (in_use_[b] && !gate_all)) continue;
      const uint64_t begin = b * bank_bytes_;
      std::fill(mem_.begin() + static_cast<std::ptrdiff_t>(begin),
                mem_.begin() + static_cast<std::ptrdiff_t>(std::min<uint64_t>(begin + bank_bytes_, mem_.size())), 0);
      in_use_[b] = 0;
    }
    if (dmi_enabled_) tsock->invalidate_direct_mem_ptr(0, mem_.size() - 1);
  }
  const double w = standby ? standby_power_w() : cost_.p_static_w;
  ledger_.set_static_power(comp_, w, t_ps);
  standby_ = standby;
  if (trace_.enabled())
    trace_.instant(track_, standby ? "standby" : "wake", t_ps,
                   {{"static_uw", w * 1e6}, {"in_use_kib", in_use_kib()}});
}

void Sram::account_dmi(tlm::tlm_command cmd, uint64_t bytes, const Accounting& acct) {
  charge(cmd, bytes, acct);
}

}  // namespace aimc::sim
