// The sequencer's registers: SEQ_PROG_ADDR and SEQ_BATCH set up an inference command, SEQ_START
// rings the doorbell (refused in STANDBY, while the programmer or the queue runs), SEQ_STATUS
// reports it and SEQ_LATENCY_NS reads its latency. An inference that saturated a tile ADC raises
// IRQ ADC_CLIP at completion. The sequencer itself is chip/sequencer.h.
#pragma once

#include <cstdint>

#include "chip/host_context.h"

namespace aimc::chip {

class SequencerPort {
 public:
  explicit SequencerPort(HostContext& ctx);
  SequencerPort(const SequencerPort&) = delete;
  SequencerPort& operator=(const SequencerPort&) = delete;

  uint32_t program_addr() const { return ctx_.regs.get(regs::Reg::SEQ_PROG_ADDR); }
  void set_state(uint32_t state);  // SEQ_STATUS (AIMC_STATE_*)
  // At completion of any inference (doorbell or queue): IRQ ADC_CLIP if a tile ADC clipped.
  void check_adc_clips();

 private:
  void start(uint32_t value, RegAccess& a);
  uint64_t adc_clips_now() const;

  HostContext& ctx_;
  uint64_t clips_at_start_ = 0;
};

}  // namespace aimc::chip
