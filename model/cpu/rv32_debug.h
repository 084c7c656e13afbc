// The RV32 core's debugging state (rv32_core.h "Debugging", rv32_debug.cpp), kept only while a
// debugger is attached. Internal to model/cpu.
#pragma once

#include <optional>
#include <vector>

#include <unicorn/unicorn.h>

#include "cpu/rv32_core.h"

namespace aimc::cpu {

struct Rv32Core::Debug {
  CoreDebugger* debugger = nullptr;
  struct Breakpoint {
    uint32_t addr;
    bool hardware;
    uc_hook hook;
  };
  std::vector<Breakpoint> breakpoints;
  struct Watch {
    uint32_t addr, len;
    WatchKind kind;
    uc_hook hook;
  };
  std::vector<Watch> watches;
  uc_hook insn_hook = 0;
  bool insn_hook_on = false;

  // The resume in progress.
  bool stepping = false;
  bool step_started = false;   // the stepped instruction has begun
  uint32_t resume_pc = 0;
  uint64_t insns_since_resume = 0;
  bool resumed_from_watch = false;  // the first access of the first instruction is GDB's step over it
  uint32_t insn_pc = 0;             // the instruction under way (with the instruction hook)

  DebugStop stop;                   // what the hooks stopped for
  std::optional<DebugStop> after_access;  // a device watchpoint: stop before the next instruction
  uint32_t undo_addr = 0;           // a RAM store to put back (a watchpoint stops before it)
  std::vector<uint8_t> undo;


  bool killed = false;
};

}  // namespace aimc::cpu
