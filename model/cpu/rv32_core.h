// The RV32IMAC microcontroller core beside the chip: a SystemC module that runs a firmware ELF on
// Unicorn's RISC-V CPU emulation (QEMU's TCG), with the memory map of
// firmware_stubs/include/aimc_rv32.h. The project writes the wrapper; Unicorn executes the
// instructions.
//
// The core uses only the chip's public interface (chip.h): chip_regs binds the chip's register
// socket, the chip's DMA port binds dma_target, and irq_in[n] binds the chip's interrupt source n.
// - Memory: ROM and RAM are the core's buffers, which Unicorn reads and writes directly. RAM is
//   also the target of the chip's DMA (dma_target; bus address = address - RAM base).
// - The chip's register space: every load/store there is a TLM transaction on chip_regs. An error
//   response (an unmapped offset, a byte or halfword access) is a load/store access fault with
//   mtval = the address. Unicorn gives no exact pc inside a device access, so mepc is found by
//   decoding the basic block that made it: its first load (store); the instructions after it in
//   that block have run (the kit's HAL keeps each register access alone in its block).
// - Time: instructions x cpu.cpi / cpu.clock_mhz, counted per translated block, kept as a local
//   offset ahead of SystemC time (temporal decoupling) and synchronised when it reaches the core's
//   quantum (cpu.quantum_ns), before every chip register read (status is never read from the past)
//   and at wfi. A chip access adds its latency (host.reg_access_ns) to the core's time.
// - Energy (ledger component "cpu"): cpu.e_cycle_pj per active cycle, cpu.p_static_uw always;
//   asleep in wfi the core is clock-gated (no cycles).
// - Interrupts: the PLIC (chip lines, rv_devices.h) raises MEIP, the CLINT MTIP/MSIP; they are
//   taken after a synchronisation, a memory-mapped write, wfi, or the CSR instruction that enables
//   them (mstatus.MIE, mie), with the machine-mode trap entry of the privileged specification
//   (mepc, mcause, mstatus.MPIE/MIE, mtvec direct or vectored).
// - Exceptions (illegal instruction, access faults, misaligned accesses, ecall) trap to mtvec the
//   same way; with no handler (mtvec 0), or one that faults itself, the run ends with a fault
//   message naming the cause, the address and the function.
// - Semihosting (semihosting.h) for argv, stdio, host files and the exit code; the UART's bytes
//   and the test device's exit go to the terminal and the trace (track "cpu").
// - Debugging (attach_debugger, the GDB stub of gdb_server.h): the core halts before its first
//   instruction and at breakpoints, watchpoints and steps, with simulated time standing still;
//   breakpoints are Unicorn code hooks on their one address, watchpoints memory hooks on their
//   range, and only a step or a watchpoint adds a hook on every instruction (rv32_debug.cpp).
//   Without a debugger none of it is installed.
// Exceptions never escape the SystemC process: a model error ends the run with fault() set.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "config/platform_config.h"
#include "cpu/core_debug.h"
#include "cpu/elf_image.h"
#include "cpu/rv_devices.h"
#include "cpu/semihosting.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

struct uc_struct;

namespace aimc::cpu {

// The memories an image may be loaded into, for cfg (read_elf's regions).
std::vector<MemoryRegion> core_memories(const config::CpuConfig& cfg);
// "" when the config can be built, else why (naming the key): the memories must be whole 4 KiB pages.
std::string check_cpu_config(const config::CpuConfig& cfg);

struct CoreStats {
  uint64_t instructions = 0;    // retired (counted per executed block)
  uint64_t cycles = 0;          // instructions x CPI, rounded
  uint64_t sleep_ps = 0;        // time asleep in wfi
  uint64_t chip_accesses = 0;   // loads and stores to the chip's register space
  uint64_t interrupts = 0;      // interrupt traps taken
  uint64_t exceptions = 0;      // exception traps taken
  uint64_t semihost_calls = 0;
  uint64_t handler_ps = 0;      // time in trap handlers, from the trap to its mret
  uint64_t handler_exits = 0;   // mrets seen (handlers left)
};

class Rv32Core : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Rv32Core> chip_regs;  // to the chip's register space
  tlm_utils::simple_target_socket<Rv32Core> dma_target;    // the chip's DMA into RAM
  // The chip's interrupt sources: irq_in[n] is PLIC source AIMC_RV_IRQ_CHIP_FIRST + n.
  sc_core::sc_vector<sc_core::sc_in<bool>> irq_in;

  // The core's time runs ahead of SystemC's by up to cfg.quantum_ns (its own quantum keeper).
  Rv32Core(sc_core::sc_module_name name, const config::CpuConfig& cfg, sim::EnergyLedger& ledger,
           sim::TraceSink& trace);
  ~Rv32Core() override;
  Rv32Core(const Rv32Core&) = delete;
  Rv32Core& operator=(const Rv32Core&) = delete;

  // Copies the image into ROM/RAM and sets the command line semihosting hands the firmware
  // (argv[0] first). Before sc_start.
  void load(const ElfImage& image, const std::string& command_line);
  // Where console output goes (default: the VP's stdout and stderr); stream 1 or 2.
  void set_console(Semihost::Console console) { console_ = std::move(console); }

  bool finished() const { return finished_; }  // the firmware exited (or faulted)
  int exit_code() const { return exit_code_; }
  const std::string& fault() const { return fault_; }  // "" unless the run ended on a fault
  bool asleep() const { return asleep_; }              // in wfi when the simulation ended
  uint32_t pc() const;
  CoreStats stats() const { return stats_; }
  // Simulated time as the core sees it: SystemC's plus the time it runs ahead (ps).
  uint64_t now_ps() const;

  // ---- Debugging (rv32_debug.cpp; docs/firmware.md "Debugging with GDB") ----
  // The debugger the core reports its halts to, before sc_start; it must outlive the run.
  void attach_debugger(CoreDebugger* debugger);
  // Registers while halted: x0..x31 (i), the pc, and the machine CSRs by address (mip is the
  // core's own: PLIC, CLINT; read-only). Writes to x0 are ignored.
  uint32_t debug_x(int i) const;
  void debug_set_x(int i, uint32_t value);
  void debug_set_pc(uint32_t value);
  std::optional<uint32_t> debug_csr(uint32_t csr);
  bool debug_set_csr(uint32_t csr, uint32_t value);
  // Memory as a debugger sees it: ROM and RAM, and the chip's registers through TLM debug
  // transport (aligned words; no side effect, no time, no energy). Returns the bytes read from the
  // start (0: none). Writes reach ROM and RAM only (translated code there is dropped).
  size_t debug_read(uint32_t addr, uint8_t* dst, size_t len);
  bool debug_write(uint32_t addr, const uint8_t* src, size_t len);
  // "" when inserted, else why not. A breakpoint stops before the instruction at addr executes;
  // a watchpoint on ROM or RAM stops before the access (the pc at the accessing instruction, the
  // memory not yet changed), on a device (the chip's registers, PLIC, CLINT, UART) after it (the
  // pc at the next instruction: the access and its side effects have happened once).
  std::string insert_breakpoint(uint32_t addr, bool hardware);
  bool remove_breakpoint(uint32_t addr, bool hardware);
  std::string insert_watchpoint(uint32_t addr, uint32_t len, WatchKind kind);
  bool remove_watchpoint(uint32_t addr, uint32_t len, WatchKind kind);

 private:
  enum class Stop { none, quantum, interrupt, debug, bus_error, exit, fault };
  struct Debug;
  class Memory;

  void run();
  void run_firmware();
  void sync();
  uint64_t ahead_ps() const { return pending_ps_ > 0 ? static_cast<uint64_t>(pending_ps_) : 0; }
  void count_block(uint64_t addr, uint32_t size);
  void note_invalid(uint64_t addr, int type);
  void note_exception(uint32_t intno);
  void after_csr_write(uint64_t addr);
  uint32_t reg(int id) const;
  void set_reg(int id, uint32_t v);
  uint32_t mip();
  bool deliver_interrupt();
  bool interrupt_wakes();
  void sleep();
  bool take_exception(uint32_t cause, uint32_t tval, uint32_t epc);
  void enter_trap(uint32_t cause, uint32_t tval, uint32_t epc);
  bool handle_stop_error(int err);
  uint32_t faulting_access_pc(bool store);
  void end(int code);
  // signal: GDB's number for the fault (rsp::Signal), for a debugger.
  void end_fault(const std::string& why, int signal = 6);
  void end_killed();
  // Stops the emulation from a block or code hook (cleanly: at that instruction). Device accesses
  // defer instead: Unicorn stopped from inside one would restart its block and repeat the access.
  void request_stop(Stop why, uint64_t at);
  void defer_stop(Stop why);
  static int stop_rank(Stop s);
  void console_out(int stream, std::string_view text, const char* what);
  void update_plic();

  // Debugging (rv32_debug.cpp).
  uint8_t* host_ptr(uint32_t addr, uint32_t len);  // ROM or RAM bytes [addr, addr+len), or nullptr
  void debug_halt(DebugStop stop);
  void debug_after_stop();
  void debug_sync_point();
  void debug_end();
  void debug_code(uint64_t addr);
  void debug_breakpoint(uint64_t addr);
  void debug_memory(int type, uint64_t addr, int size);
  void debug_request_stop(const DebugStop& stop);
  void debug_update_code_hook();
  void debug_detach();
  // Takes back the instructions of the last counted block from pc on (not run: a stop in the
  // middle of the block, which runs them again when it resumes).
  void uncount_from(uint32_t pc);
  // At each block: a trap handler entered (enter_trap) and since left by mret (mstatus.MPP no
  // longer M) becomes a span on the trace and time in stats().handler_ps.
  void note_trap_exits();
  void settle_irq_lines();
  void dma_access(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int dma_debug(tlm::tlm_generic_payload& gp);

  // Memory-mapped devices (Unicorn's callbacks).
  uint64_t chip_read(uint64_t off, unsigned size);
  void chip_write(uint64_t off, unsigned size, uint64_t value);
  bool chip_access(tlm::tlm_command cmd, uint32_t off, unsigned size, uint32_t& data);
  uint64_t plic_read(uint64_t off, unsigned size);
  void plic_write(uint64_t off, unsigned size, uint64_t value);
  uint64_t clint_read(uint64_t off, unsigned size);
  void clint_write(uint64_t off, unsigned size, uint64_t value);
  uint64_t uart_read(uint64_t off, unsigned size);
  void uart_write(uint64_t off, unsigned size, uint64_t value);
  void test_write(uint64_t off, unsigned size, uint64_t value);

  config::CpuConfig cfg_;
  sim::EnergyLedger& ledger_;
  sim::TraceSink& trace_;
  int c_cpu_;
  int track_;
  uc_struct* uc_ = nullptr;
  std::vector<uint8_t> rom_;
  std::vector<uint8_t> ram_buf_;
  uint8_t* ram_;
  uint64_t ram_bytes_;
  std::unique_ptr<Memory> memory_;
  const ElfImage* image_ = nullptr;
  ElfImage image_copy_;
  std::unique_ptr<Semihost> semihost_;
  Semihost::Console console_;
  std::string line_[3];  // console text not yet ended by a newline, per stream (0: the UART)

  Plic plic_;
  Clint clint_;

  double ps_per_instr_;
  double cycles_per_instr_;
  uint64_t quantum_ps_;
  double pending_ps_ = 0;       // the core's time ahead of SystemC's, not yet waited for
  double pending_cycles_ = 0;   // cycles not yet posted to the ledger
  std::unordered_map<uint64_t, uint32_t> block_instrs_;  // (address, size) -> instructions
  Stop stop_ = Stop::none;
  Stop deferred_ = Stop::none;  // a stop a device access asked for, made at the next block
  static constexpr uint64_t kNoStopPc = ~0ull;
  uint64_t stop_pc_ = kNoStopPc;  // where a hook stopped the emulation (the instruction not run)
  bool finished_ = false, asleep_ = false;
  int exit_code_ = 0;
  std::string fault_;
  int fault_signal_ = 0;
  std::unique_ptr<Debug> debug_;  // only with a debugger attached
  uint32_t pc_ = 0;
  uint64_t fault_addr_ = 0;  // the address of the last invalid access (for mtval)
  uint64_t block_addr_ = 0;  // the block executing now (from the block hook)
  uint32_t block_size_ = 0;
  bool block_counted_ = false;  // its instructions are in stats_ (uncount_from may take some back)
  struct Trap {
    uint64_t t_ps;  // when it was taken
    uint32_t cause;
  };
  std::vector<Trap> traps_;  // handlers entered and not yet left (nested ones on top)
  bool trap_exit_armed_ = false;  // mstatus.MPP was M since the last mret seen
  uint32_t bus_error_addr_ = 0;
  uint64_t bus_error_block_ = 0;
  uint32_t bus_error_block_size_ = 0;
  bool bus_error_store_ = false;
  int intno_ = -1;           // the last exception Unicorn reported
  uint64_t last_counter_ps_ = 0;
  CoreStats stats_;
};

}  // namespace aimc::cpu
