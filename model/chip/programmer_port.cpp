#include "chip/programmer_port.h"

#include <cmath>

#include "aimc_regs.h"
#include "chip/nvm_programmer.h"
#include "chip/sequencer.h"
#include "sim/accounting.h"

namespace aimc::chip {

using regs::Reg;

ProgrammerPort::ProgrammerPort(HostContext& ctx) : ctx_(ctx) {
  HostRegisters& r = ctx_.regs;
  const auto& prog = ctx_.cfg.programming;
  // Reset values from the platform config; PROG_TILE, PROG_ROW, PROG_COL, PROG_SIDE and the
  // tolerances are plain storage that PROG_CMD reads.
  r.set(Reg::PROG_TOL_REL_PPM, static_cast<uint32_t>(std::lround(prog.tolerance_rel * 1e6)));
  r.set(Reg::PROG_TOLERANCE_PPM, static_cast<uint32_t>(std::lround(prog.tolerance_gmax_rel * 1e6)));
  r.set(Reg::PROG_MAX_ITER, static_cast<uint32_t>(prog.max_iterations));
  r.on_write(Reg::PROG_MAX_ITER, [this](uint32_t v, RegAccess& a) {
    if (v == 0 || v > 65535) return a.refuse(AIMC_ERR_BAD_VALUE);
    ctx_.regs.set(Reg::PROG_MAX_ITER, v);
  });
  r.on_write(Reg::PROG_CMD, [this](uint32_t v, RegAccess& a) { command(v, a); });
  NvmProgrammer& p = ctx_.programmer;
  r.on_read(Reg::PROG_CELLS, [&p](const RegAccess&) { return p.last_cells(); });
  r.on_read(Reg::PROG_VERIFY_FAILS, [&p](const RegAccess&) { return p.verify_fails(); });
  r.on_read(Reg::PROG_READ_PS, [&p](const RegAccess&) { return p.read_ps(); });
  r.on_read(Reg::PROG_PULSES, [&p](const RegAccess&) { return p.last_pulses(); });
  r.on_read(Reg::PROG_UNCONVERGED, [&p](const RegAccess&) { return p.last_unconverged(); });
  r.on_read(Reg::PROG_ITER_MAX, [&p](const RegAccess&) { return p.last_iter_max(); });
}

void ProgrammerPort::set_state(uint32_t state) { ctx_.regs.set(Reg::PROG_STATUS, state); }

void ProgrammerPort::command(uint32_t op, RegAccess& a) {
  HostRegisters& r = ctx_.regs;
  if (ctx_.host.standby()) return a.refuse(AIMC_ERR_POWER_STATE);
  if (op < AIMC_PROG_PROGRAM || op > AIMC_PROG_ERASE) return a.refuse(AIMC_ERR_BAD_VALUE);
  if (r.get(Reg::PROG_TILE) >= ctx_.tiles.size()) {
    set_state(AIMC_STATE_ERROR);
    return a.refuse(AIMC_ERR_BAD_TILE, r.get(Reg::PROG_TILE));
  }
  NvmProgrammer::Command cmd;
  cmd.op = op;
  cmd.tile = r.get(Reg::PROG_TILE);
  cmd.row = r.get(Reg::PROG_ROW);
  cmd.col = r.get(Reg::PROG_COL);
  cmd.side = r.get(Reg::PROG_SIDE);
  cmd.tol_gmax_ppm = r.get(Reg::PROG_TOLERANCE_PPM);
  cmd.tol_rel_ppm = r.get(Reg::PROG_TOL_REL_PPM);
  cmd.max_iterations = r.get(Reg::PROG_MAX_ITER);
  if (ctx_.sequencer.busy() || ctx_.host.queue_busy() ||
      !ctx_.programmer.start(cmd, sim::ps_to_time(a.delay_ps)))
    return a.refuse(AIMC_ERR_BUSY);
  set_state(AIMC_STATE_BUSY);
  last_op_ = op;
}

void ProgrammerPort::check_yield(uint32_t error) {
  if (error == AIMC_ERR_NONE && last_op_ == AIMC_PROG_PROGRAM &&
      ctx_.programmer.last_unconverged() > 0)
    ctx_.host.raise(AIMC_IRQ_PROG_YIELD);
}

}  // namespace aimc::chip
