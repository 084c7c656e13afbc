// The DMA engine: single transfers (DMA_HOST_ADDR, DMA_DEV_ADDR, DMA_LEN, DMA_CTRL.DIR) and
// descriptor chains with 2D strides (DMA_CTRL.CHAIN, DMA_DESC_ADDR), started by DMA_START and
// reported in DMA_STATUS and DMA_DESC_DONE. A TLM initiator on the chip bus and on host memory
// (the host interface's dma_bus and dma_host sockets). Every transfer is checked before a byte
// moves: a malformed descriptor is BAD_DESCRIPTOR, a range outside memory DMA_FAULT. The command
// queue moves its data with the same machinery.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>

#include "aimc_hw.h"
#include "chip/engine.h"
#include "chip/host_context.h"

namespace aimc::chip {

class DmaEngine {
 public:
  static constexpr uint32_t kBeatBytes = 4096;  // bytes per DMA beat (the buffer of a mover)
  static constexpr uint32_t kProbeBytes = 4096;  // bytes per debug read when checking a range

  // One 2D transfer (a descriptor).
  struct Move {
    bool to_host = false;
    uint32_t host_addr = 0, dev_addr = 0, row_bytes = 0, rows = 1, host_stride = 0, dev_stride = 0;
  };

  DmaEngine(HostContext& ctx, EngineListener& listener, tlm::tlm_initiator_socket<>& bus,
            tlm::tlm_initiator_socket<>& host);
  DmaEngine(const DmaEngine&) = delete;
  DmaEngine& operator=(const DmaEngine&) = delete;

  // The engine's SystemC thread (spawned by the host interface): runs one command per DMA_START.
  void run();
  bool busy() const { return busy_; }
  void set_state(uint32_t state);  // DMA_STATUS (AIMC_STATE_*)

  // Checks a move: AIMC_ERR_NONE, BAD_DESCRIPTOR (malformed) or DMA_FAULT (outside memory).
  uint32_t check_move(const Move& m, uint32_t& err_addr);
  // Moves the bytes from time `t_ps` on (timed transactions); returns the end time via t_ps.
  uint32_t do_move(const Move& m, uint64_t& t_ps, uint32_t& err_addr, std::vector<uint8_t>& buf);
  // Timed access to host memory from the chip (descriptor fetches, queue entries).
  bool host_access(tlm::tlm_command cmd, uint32_t addr, void* data, uint32_t len, uint64_t& t_ps);

 private:
  void start(uint32_t value, RegAccess& a);
  bool probe(tlm::tlm_initiator_socket<>& sock, uint32_t addr, uint64_t len);
  bool read_desc(uint32_t addr, aimc_dma_desc_t& d);
  uint32_t run_chain(uint32_t first, uint64_t& t_ps, uint32_t& err_addr, uint32_t& done);

  HostContext& ctx_;
  EngineListener& listener_;
  tlm::tlm_initiator_socket<>& bus_;
  tlm::tlm_initiator_socket<>& host_;
  sc_core::sc_event start_;
  bool busy_ = false;
  std::vector<uint8_t> buf_;
};

}  // namespace aimc::chip
