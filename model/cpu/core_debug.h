// What the RV32 core tells a debugger, and what the debugger answers: the seam between the core
// (rv32_core.h, which stops and resumes) and the GDB stub (gdb_server.h, which talks to GDB).
// No SystemC and no Unicorn here.
#pragma once

#include <cstdint>
#include <string>

namespace aimc::cpu {

enum class WatchKind { write, read, access };

struct DebugStop {
  enum class Kind {
    initial,     // before the first instruction
    interrupt,   // the debugger asked (Ctrl-C)
    breakpoint,  // at a breakpoint's address, the instruction not executed
    watchpoint,  // a watched range was accessed (see Rv32Core::insert_watchpoint)
    step,        // one instruction done
    fault,       // the firmware faulted (fault_message); the run ends when the core resumes
    exited,      // the firmware exited with exit_code (the run has ended)
    killed,      // the debugger ended the run
  };
  Kind kind = Kind::initial;
  uint32_t pc = 0;
  bool hardware = false;       // breakpoint: inserted as a hardware one
  WatchKind watch = WatchKind::write;
  uint32_t address = 0;        // watchpoint: the address accessed (within the watched range)
  int signal = 0;              // fault: GDB's signal number for it (rsp::Signal)
  int exit_code = 0;           // exited
  std::string fault_message;   // fault
};

enum class DebugResume { cont, step, detach, kill };

class CoreDebugger {
 public:
  virtual ~CoreDebugger() = default;
  // The core is halted (simulated time stands still): serve the debugger until it resumes the
  // core (cont, step), lets it run free (detach) or ends the run (kill).
  virtual DebugResume halted(const DebugStop& why) = 0;
  // Asked at the core's synchronisation points while it runs; cheap when nothing is pending.
  virtual bool interrupt_requested() = 0;
  // The run has ended (exited, or after a fault was shown); the debugger says goodbye.
  virtual void ended(const DebugStop& why) = 0;
};

}  // namespace aimc::cpu
