// The generic payload of a plain transfer, as every initiator of the platform sets it up.
#pragma once

#include <cstdint>

#include <tlm>

namespace aimc::sim {

// Makes `gp` a plain transfer of `len` bytes at `addr` from/to `data`: streaming width = length,
// no byte enables, no DMI hint, response INCOMPLETE (what the TLM-2.0 base protocol asks of an
// initiator before each transport, IEEE 1666-2011 14.17). Extensions are left as they are, so a
// payload can be reused.
inline void set_plain(tlm::tlm_generic_payload& gp, tlm::tlm_command cmd, uint64_t addr, void* data,
                      unsigned len) {
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(static_cast<unsigned char*>(data));
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_byte_enable_length(0);
  gp.set_dmi_allowed(false);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

}  // namespace aimc::sim
