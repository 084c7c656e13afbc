// Host memory of in-process firmware: its DMA buffers live here. The chip's DMA engine reaches it
// through the host link (host_link.h), which costs the time and energy; this target only moves
// the bytes. Buffers are handed out by a first-fit allocator; address 0 is never handed out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "chip/local_memory.h"

namespace aimc::chip {

class HostMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<HostMemory> tsock;

  HostMemory(sc_core::sc_module_name name, uint64_t size_bytes);
  HostMemory(const HostMemory&) = delete;
  HostMemory& operator=(const HostMemory&) = delete;

  // First-fit allocation, 64-byte aligned. nullopt when no block is large enough.
  std::optional<uint32_t> allocate(uint64_t bytes);
  void release(uint32_t addr);
  // Bytes of the allocation that starts at addr (rounded up), 0 when none does.
  uint64_t allocated(uint32_t addr) const {
    auto it = used_.find(addr);
    return it == used_.end() ? 0 : it->second;
  }
  uint8_t* at(uint32_t addr) { return mem_.data() + addr; }
  uint64_t size() const { return mem_.size(); }

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);

  LocalMemory mem_;
  std::map<uint32_t, uint64_t> used_;  // start -> size
};

}  // namespace aimc::chip
