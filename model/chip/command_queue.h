// The command queue: a ring of inference commands (aimc_cmd_t) in host memory at CQ_BASE with
// CQ_ENTRIES entries. Firmware fills entries and moves CQ_TAIL (the doorbell); the queue runs
// each entry (input by DMA, the inference, output by DMA), writes its status and latency back
// to the entry, and advances CQ_HEAD and CQ_DONE. A malformed entry stops the queue there with
// the entry's status saying why (ERROR_CODE = BAD_COMMAND, or the sequencer's error).
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>

#include "aimc_hw.h"
#include "chip/dma_engine.h"
#include "chip/host_context.h"
#include "chip/sequencer_port.h"

namespace aimc::chip {

class CommandQueue {
 public:
  CommandQueue(HostContext& ctx, DmaEngine& dma, SequencerPort& seq);
  CommandQueue(const CommandQueue&) = delete;
  CommandQueue& operator=(const CommandQueue&) = delete;

  // The queue's SystemC thread (spawned by the host interface).
  void run();
  bool busy() const { return busy_; }
  // Soft reset: an empty ring, CQ_STATUS IDLE.
  void reset();
  // The sequencer finished: true if the inference was the queue's (the queue reports it).
  bool take_inference(uint32_t error, uint32_t error_addr);

 private:
  void setup(regs::Reg reg, uint32_t value, RegAccess& a);
  void doorbell(uint32_t tail, RegAccess& a);
  uint32_t entry_addr(uint32_t index) const;
  uint32_t run_entry(uint32_t index, uint64_t& t_ps, aimc_cmd_t& cmd, uint32_t& err_addr);

  HostContext& ctx_;
  DmaEngine& dma_;
  SequencerPort& seq_;
  sc_core::sc_event kick_, seq_done_;
  bool busy_ = false, waiting_seq_ = false;
  uint32_t seq_error_ = 0, seq_error_addr_ = 0;
  std::vector<uint8_t> buf_;
};

}  // namespace aimc::chip
