// The programming controller's registers: PROG_TILE, PROG_ROW/COL/SIDE and the tolerances set up
// a command, PROG_CMD starts it (refused in STANDBY, while the sequencer or the queue runs, or
// with a bad opcode or tile), PROG_STATUS reports it, and the result registers (PROG_CELLS,
// PROG_VERIFY_FAILS, PROG_READ_PS, PROG_PULSES, PROG_UNCONVERGED, PROG_ITER_MAX) read the
// controller's last result. The controller itself is chip/nvm_programmer.h.
#pragma once

#include <cstdint>

#include "chip/host_context.h"

namespace aimc::chip {

class ProgrammerPort {
 public:
  explicit ProgrammerPort(HostContext& ctx);
  ProgrammerPort(const ProgrammerPort&) = delete;
  ProgrammerPort& operator=(const ProgrammerPort&) = delete;

  void set_state(uint32_t state);  // PROG_STATUS (AIMC_STATE_*)
  // At completion: a PROGRAM that left cells outside the tolerance raises IRQ PROG_YIELD.
  void check_yield(uint32_t error);

 private:
  void command(uint32_t op, RegAccess& a);

  HostContext& ctx_;
  uint32_t last_op_ = 0;
};

}  // namespace aimc::chip
