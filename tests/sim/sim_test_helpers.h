// Test-only initiator and target modules for the bus and SRAM tests.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "sim/accounting.h"
#include "sim/interconnect.h"

namespace aimc::sim::testing {

inline sc_core::sc_time ps(uint64_t v) { return ps_to_time(v); }

struct TransactOptions {
  std::optional<Accounting> accounting;
  std::optional<Route> route;  // the transfer's real source and destination (interconnect.h)
  uint8_t* byte_enables = nullptr;
  unsigned byte_enable_length = 0;
  unsigned streaming_width = 0;  // 0: = length
};

// Runs `body` in an SC_THREAD; transact() follows the base-protocol rules for initiators.
class Driver : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Driver> sock;
  std::function<void(Driver&)> body;
  std::vector<std::pair<uint64_t, uint64_t>> invalidations;

  using Options = TransactOptions;

  Driver(const sc_core::sc_module_name& name, std::function<void(Driver&)> f)
      : sc_core::sc_module(name), sock("sock"), body(std::move(f)) {
    sock.register_invalidate_direct_mem_ptr(this, &Driver::invalidate);
    SC_HAS_PROCESS(Driver);
    SC_THREAD(run);
  }

  tlm::tlm_response_status transact(tlm::tlm_command cmd, uint64_t address, uint8_t* data,
                                    unsigned length, sc_core::sc_time& delay,
                                    const Options& opt = {}) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(address);
    gp.set_data_ptr(data);
    gp.set_data_length(length);
    gp.set_streaming_width(opt.streaming_width ? opt.streaming_width : length);
    gp.set_byte_enable_ptr(opt.byte_enables);
    gp.set_byte_enable_length(opt.byte_enable_length);
    gp.set_dmi_allowed(false);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    if (opt.accounting) gp.set_extension(new Accounting(*opt.accounting));  // freed by ~gp
    if (opt.route) gp.set_extension(new Route(*opt.route));                 // freed by ~gp
    sock->b_transport(gp, delay);
    last_address = gp.get_address();
    last_dmi_allowed = gp.is_dmi_allowed();
    return gp.get_response_status();
  }

  unsigned debug(tlm::tlm_command cmd, uint64_t address, uint8_t* data, unsigned length) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(address);
    gp.set_data_ptr(data);
    gp.set_data_length(length);
    return sock->transport_dbg(gp);
  }

  bool dmi(uint64_t address, tlm::tlm_dmi& out) {
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_READ_COMMAND);
    gp.set_address(address);
    return sock->get_direct_mem_ptr(gp, out);
  }

  uint64_t last_address = 0;
  bool last_dmi_allowed = false;

 private:
  void run() {
    if (body) body(*this);
  }
  void invalidate(sc_dt::uint64 start, sc_dt::uint64 end) { invalidations.emplace_back(start, end); }
};

// A target that records what reaches it, answers OK after `latency`, and supports debug access.
class RecordingTarget : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<RecordingTarget> sock;
  struct Access {
    tlm::tlm_command cmd;
    uint64_t address;
    unsigned length;
    uint64_t delay_in_ps;
  };
  std::vector<Access> accesses;
  std::vector<Access> debug_accesses;
  sc_core::sc_time latency = sc_core::SC_ZERO_TIME;
  bool grant_dmi_hint = false;

  explicit RecordingTarget(const sc_core::sc_module_name& name) : sc_core::sc_module(name), sock("sock") {
    sock.register_b_transport(this, &RecordingTarget::b_transport);
    sock.register_transport_dbg(this, &RecordingTarget::transport_dbg);
  }

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    accesses.push_back({gp.get_command(), gp.get_address(), gp.get_data_length(), to_ps(delay)});
    delay += latency;
    gp.set_dmi_allowed(grant_dmi_hint);
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  unsigned transport_dbg(tlm::tlm_generic_payload& gp) {
    debug_accesses.push_back({gp.get_command(), gp.get_address(), gp.get_data_length(), 0});
    return gp.get_data_length();
  }
};

}  // namespace aimc::sim::testing
