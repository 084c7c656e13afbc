#include "chip/sequencer_port.h"

#include <algorithm>

#include "aimc_regs.h"
#include "chip/nvm_programmer.h"
#include "chip/sequencer.h"
#include "chip/tile.h"
#include "sim/accounting.h"

namespace aimc::chip {

using regs::Reg;

SequencerPort::SequencerPort(HostContext& ctx) : ctx_(ctx) {
  // SEQ_PROG_ADDR and SEQ_BATCH are plain storage that SEQ_START (and the queue) read.
  ctx_.regs.on_write(Reg::SEQ_START, [this](uint32_t v, RegAccess& a) { start(v, a); });
  ctx_.regs.on_read(Reg::SEQ_LATENCY_NS, [this](const RegAccess&) {
    return static_cast<uint32_t>(
        std::min<uint64_t>(ctx_.sequencer.last_latency_ps() / 1000u, 0xFFFFFFFFu));
  });
}

void SequencerPort::set_state(uint32_t state) { ctx_.regs.set(Reg::SEQ_STATUS, state); }

void SequencerPort::start(uint32_t value, RegAccess& a) {
  if (!(value & 1u)) return;
  if (ctx_.host.standby()) return a.refuse(AIMC_ERR_POWER_STATE);
  if (ctx_.host.queue_busy() || ctx_.programmer.busy() ||
      !ctx_.sequencer.start(program_addr(), ctx_.regs.get(Reg::SEQ_BATCH),
                            sim::ps_to_time(a.delay_ps)))
    return a.refuse(AIMC_ERR_BUSY);
  clips_at_start_ = adc_clips_now();
  set_state(AIMC_STATE_BUSY);
}

uint64_t SequencerPort::adc_clips_now() const {
  uint64_t n = 0;
  for (const Tile* t : ctx_.tiles) n += t->adc_clipped();
  return n;
}

void SequencerPort::check_adc_clips() {
  if (adc_clips_now() > clips_at_start_) {
    clips_at_start_ = adc_clips_now();
    ctx_.host.raise(AIMC_IRQ_ADC_CLIP);
  }
}

}  // namespace aimc::chip
