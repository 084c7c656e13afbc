#include "chip/command_queue.h"

#include <algorithm>
#include <cstddef>

#include "aimc_regs.h"
#include "chip/sequencer.h"
#include "sim/accounting.h"

namespace aimc::chip {

using regs::Reg;

CommandQueue::CommandQueue(HostContext& ctx, DmaEngine& dma, SequencerPort& seq)
    : ctx_(ctx), dma_(dma), seq_(seq), buf_(DmaEngine::kBeatBytes) {
  // CQ_HEAD, CQ_STATUS and CQ_DONE are set by the queue.
  ctx_.regs.on_write(Reg::CQ_BASE, [this](uint32_t v, RegAccess& a) { setup(Reg::CQ_BASE, v, a); });
  ctx_.regs.on_write(Reg::CQ_ENTRIES,
                     [this](uint32_t v, RegAccess& a) { setup(Reg::CQ_ENTRIES, v, a); });
  ctx_.regs.on_write(Reg::CQ_TAIL, [this](uint32_t v, RegAccess& a) { doorbell(v, a); });
}

void CommandQueue::reset() {
  ctx_.regs.set(Reg::CQ_STATUS, AIMC_STATE_IDLE);
  ctx_.regs.set(Reg::CQ_HEAD, 0);
  ctx_.regs.set(Reg::CQ_TAIL, 0);
}

void CommandQueue::setup(Reg reg, uint32_t value, RegAccess& a) {
  if (busy_) return a.refuse(AIMC_ERR_BUSY);
  ctx_.regs.set(reg, value);
  reset();  // a new ring starts empty
}

void CommandQueue::doorbell(uint32_t tail, RegAccess& a) {
  const HostRegisters& r = ctx_.regs;
  if (r.get(Reg::CQ_ENTRIES) == 0 || tail >= r.get(Reg::CQ_ENTRIES) || (r.get(Reg::CQ_BASE) & 3u) != 0)
    return a.refuse(AIMC_ERR_BAD_COMMAND);
  if (ctx_.host.standby()) return a.refuse(AIMC_ERR_POWER_STATE);
  ctx_.regs.set(Reg::CQ_TAIL, tail);
  if (busy_) return;  // the running queue reads the new tail before it stops
  // Busy from the doorbell on, as the other engines from their start: a reset or setup written
  // before the queue's thread wakes (the caller's local time) is refused, not undone by it.
  busy_ = true;
  ctx_.regs.set(Reg::CQ_STATUS, AIMC_STATE_BUSY);
  kick_.notify(sim::ps_to_time(a.delay_ps));
}

bool CommandQueue::take_inference(uint32_t error, uint32_t error_addr) {
  if (!waiting_seq_) return false;
  waiting_seq_ = false;
  seq_error_ = error;
  seq_error_addr_ = error_addr;
  seq_done_.notify(sc_core::SC_ZERO_TIME);
  return true;
}

uint32_t CommandQueue::entry_addr(uint32_t index) const {
  return ctx_.regs.get(Reg::CQ_BASE) + index * static_cast<uint32_t>(sizeof(aimc_cmd_t));
}

uint32_t CommandQueue::run_entry(uint32_t index, uint64_t& t, aimc_cmd_t& cmd, uint32_t& err_addr) {
  err_addr = index;
  if (!dma_.host_access(tlm::TLM_READ_COMMAND, entry_addr(index), &cmd, sizeof cmd, t)) {
    err_addr = entry_addr(index);  // the ring is not where CQ_BASE says
    return AIMC_ERR_DMA_FAULT;
  }
  aimc_program_hdr_t ph{};
  if (cmd.opcode != AIMC_CMD_INFER || (cmd.flags & ~AIMC_CMD_FLAG_IRQ) != 0)
    return AIMC_ERR_BAD_COMMAND;
  if (!ctx_.sequencer.program_header(seq_.program_addr(), ph)) return AIMC_ERR_BAD_PROGRAM;
  if (cmd.batch == 0 || cmd.batch > ph.max_batch) return AIMC_ERR_BAD_BATCH;
  DmaEngine::Move in;
  in.host_addr = cmd.in_host_addr;
  in.dev_addr = ph.in_addr;
  // Sizes in 64 bits: a batch times the features may not fit the 32-bit length of a move.
  const uint64_t in_bytes = uint64_t(cmd.batch) * ph.in_features, out_bytes = uint64_t(cmd.batch) * ph.out_features * 4u;
  if (in_bytes > 0xFFFFFFFFu || out_bytes > 0xFFFFFFFFu) return AIMC_ERR_BAD_BATCH;
  in.row_bytes = static_cast<uint32_t>(in_bytes);
  DmaEngine::Move out;
  out.to_host = true;
  out.host_addr = cmd.out_host_addr;
  out.dev_addr = ph.out_addr;
  out.row_bytes = static_cast<uint32_t>(out_bytes);
  if (dma_.check_move(in, err_addr) != AIMC_ERR_NONE ||
      dma_.check_move(out, err_addr) != AIMC_ERR_NONE)
    return AIMC_ERR_DMA_FAULT;
  uint32_t e = dma_.do_move(in, t, err_addr, buf_);
  if (e != AIMC_ERR_NONE) return e;
  // The inference itself: the sequencer reports back to the queue, not to firmware.
  const uint64_t now = sim::to_ps(sc_core::sc_time_stamp());
  waiting_seq_ = true;
  if (!ctx_.sequencer.start(seq_.program_addr(), cmd.batch, sim::ps_to_time(t - now))) {
    waiting_seq_ = false;
    return AIMC_ERR_BUSY;
  }
  seq_.set_state(AIMC_STATE_BUSY);
  sc_core::wait(seq_done_);
  seq_.set_state(seq_error_ == AIMC_ERR_NONE ? AIMC_STATE_DONE : AIMC_STATE_ERROR);
  if (seq_error_ != AIMC_ERR_NONE) return seq_error_;
  t = sim::to_ps(sc_core::sc_time_stamp());
  cmd.latency_ns =
      static_cast<uint32_t>(std::min<uint64_t>(ctx_.sequencer.last_latency_ps() / 1000u, 0xFFFFFFFFu));
  return dma_.do_move(out, t, err_addr, buf_);
}

void CommandQueue::run() {
  HostRegisters& r = ctx_.regs;
  for (;;) {
    sc_core::wait(kick_);  // the doorbell made the queue busy
    uint32_t error = AIMC_ERR_NONE;
    while (r.get(Reg::CQ_HEAD) != r.get(Reg::CQ_TAIL)) {
      const uint32_t head = r.get(Reg::CQ_HEAD);
      const uint64_t t_entry = sim::to_ps(sc_core::sc_time_stamp());
      uint64_t t = t_entry + sim::ns_to_ps(ctx_.cfg.host.dma_setup_ns);
      aimc_cmd_t cmd{};
      std::string failure;
      uint32_t error_addr = head;
      error = run_guarded(
          "command queue", [&] { return run_entry(head, t, cmd, error_addr); }, AIMC_ERR_BAD_COMMAND, failure);
      // Write the entry's status (and latency) back to host memory.
      cmd.status = error;
      dma_.host_access(tlm::TLM_WRITE_COMMAND, entry_addr(head) + offsetof(aimc_cmd_t, status),
                       &cmd.status, 8, t);
      const uint64_t now = sim::to_ps(sc_core::sc_time_stamp());
      if (t > now) sc_core::wait(sim::ps_to_time(t - now));
      if (ctx_.trace.enabled())
        ctx_.trace.span(ctx_.track, "cq entry", t_entry,
                        sim::to_ps(sc_core::sc_time_stamp()) - t_entry,
                        {{"entry", head}, {"batch", cmd.batch}, {"status", error}});
      if (error != AIMC_ERR_NONE) {
        ctx_.host.record_error(error == AIMC_ERR_BAD_PROGRAM || error == AIMC_ERR_BAD_BATCH ||
                                       error == AIMC_ERR_DMA_FAULT
                                   ? error
                                   : AIMC_ERR_BAD_COMMAND,
                               error == AIMC_ERR_DMA_FAULT ? error_addr : head);
        break;  // the queue stops at the failed entry; firmware inspects it and re-arms
      }
      r.set(Reg::CQ_HEAD, (head + 1) % r.get(Reg::CQ_ENTRIES));
      ++r[Reg::CQ_DONE];
      if (cmd.flags & AIMC_CMD_FLAG_IRQ) ctx_.host.raise(AIMC_IRQ_CQ_DONE);
    }
    r.set(Reg::CQ_STATUS, error == AIMC_ERR_NONE ? AIMC_STATE_DONE : AIMC_STATE_ERROR);
    busy_ = false;
  }
}

}  // namespace aimc::chip
