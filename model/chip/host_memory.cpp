#include "chip/host_memory.h"

#include <cstring>

namespace aimc::chip {

namespace {
constexpr uint32_t kFirstAddress = 0x1000;  // keeps 0 free as "no buffer"
constexpr uint64_t kAlign = 64;
}  // namespace

HostMemory::HostMemory(sc_core::sc_module_name name, uint64_t size_bytes)
    : sc_module(name), tsock("tsock"), mem_(size_bytes) {
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

void HostMemory::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) { mem_.access(gp); }

unsigned int HostMemory::transport_dbg(tlm::tlm_generic_payload& gp) { return mem_.debug(gp); }

}  // namespace aimc::chip
