// A block's local memory as a TLM target sees it (the tile's buffers, the programming staging
// buffer, the sequencer's program memory, host memory): checks a payload against the base-protocol
// rules (CONVENTIONS practice 2) and moves the bytes. Time and energy are the owner's business.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include <tlm>

namespace aimc::chip {

class LocalMemory {
 public:
  explicit LocalMemory(size_t bytes) : bytes_(bytes, 0) {}

  // Checks first, then acts: byte enables are not supported, a streaming width below the length
  // is a burst error, and the access must lie inside the memory. Sets and returns the response.
  tlm::tlm_response_status access(tlm::tlm_generic_payload& gp) {
    const uint64_t addr = gp.get_address();
    const unsigned len = gp.get_data_length();
    tlm::tlm_response_status status = tlm::TLM_OK_RESPONSE;
    if (gp.get_byte_enable_ptr()) status = tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
    else if (gp.get_streaming_width() < len) status = tlm::TLM_BURST_ERROR_RESPONSE;
    else if (!contains(addr, len)) status = tlm::TLM_ADDRESS_ERROR_RESPONSE;
    else copy(gp, addr, len);
    gp.set_response_status(status);
    return status;
  }

  // Debug transport: no time, no energy, no permission checks; returns the bytes moved.
  unsigned int debug(tlm::tlm_generic_payload& gp) {
    const uint64_t addr = gp.get_address();
    const unsigned len = gp.get_data_length();
    if (!contains(addr, len)) return 0;
    copy(gp, addr, len);
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    return len;
  }

  bool contains(uint64_t addr, uint64_t len) const {
    return addr <= bytes_.size() && len <= bytes_.size() - addr;
  }
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }

 private:
  void copy(tlm::tlm_generic_payload& gp, uint64_t addr, unsigned len) {
    if (gp.is_write()) std::memcpy(bytes_.data() + addr, gp.get_data_ptr(), len);
    else if (gp.is_read()) std::memcpy(gp.get_data_ptr(), bytes_.data() + addr, len);
  }

  std::vector<uint8_t> bytes_;
};

}  // namespace aimc::chip
