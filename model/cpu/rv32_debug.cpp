// The RV32 core's debugging half (rv32_core.h, "Debugging"): registers and memory for a debugger,
// breakpoints and watchpoints as Unicorn hooks, halts and resumes in the core's run loop.
//
// How a stop is made exact on Unicorn 2.0.1 (what its translator does, checked in
// tests/cpu/gdb_test.py):
// - A code hook on one address is compiled into the translated block that holds the address, with
//   the pc written before it; stopping there leaves the pc at the instruction, not executed. Blocks
//   translated before the hook was added do not call it: they are dropped (uc_ctl_remove_cache).
// - A stop asked for inside a memory hook takes effect after that load or store, and the pc is
//   then whatever was last written to it: exact only while a code hook on every instruction writes
//   it (the "instruction hook", installed while a watchpoint exists or a step is under way).
//   The load has not written its register yet; the store has written memory, which we put back,
//   so the core stops before the access. Device accesses cannot be undone: there the stop waits
//   for the next instruction.
// - The block hook counts a block's instructions when it starts; where a stop cuts a block short,
//   the instructions not executed are taken back (uncount_from), so a debugged run retires the same
//   instructions in the same simulated time as one without a debugger.
#include <algorithm>
#include <cstring>

#include <unicorn/unicorn.h>

#include "aimc_regs.h"
#include "aimc_rv32.h"
#include "cpu/gdb_rsp.h"
#include "cpu/rv32_core.h"
#include "cpu/rv32_debug.h"
#include "cpu/uc_callbacks.h"
#include "sim/payload.h"

namespace aimc::cpu {

namespace {

using namespace uc_callbacks;

bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) { return a < b + blen && b < a + alen; }

int uc_csr(uint32_t csr) {
  switch (csr) {
    case 0x300: return UC_RISCV_REG_MSTATUS;
    case 0x301: return UC_RISCV_REG_MISA;
    case 0x304: return UC_RISCV_REG_MIE;
    case 0x305: return UC_RISCV_REG_MTVEC;
    case 0x340: return UC_RISCV_REG_MSCRATCH;
    case 0x341: return UC_RISCV_REG_MEPC;
    case 0x342: return UC_RISCV_REG_MCAUSE;
    case 0x343: return UC_RISCV_REG_MTVAL;
    default: return -1;
  }
}

}  // namespace

// ---- Registers and memory --------------------------------------------------------------------

void Rv32Core::attach_debugger(CoreDebugger* debugger) {
  if (!debugger) return;
  if (!debug_) debug_ = std::make_unique<Debug>();
  debug_->debugger = debugger;
}

uint32_t Rv32Core::debug_x(int i) const { return i <= 0 || i > 31 ? 0 : reg(UC_RISCV_REG_X0 + i); }

void Rv32Core::debug_set_x(int i, uint32_t value) {
  if (i > 0 && i <= 31) set_reg(UC_RISCV_REG_X0 + i, value);
}

void Rv32Core::debug_set_pc(uint32_t value) {
  pc_ = value;
  set_reg(UC_RISCV_REG_PC, value);
}

std::optional<uint32_t> Rv32Core::debug_csr(uint32_t csr) {
  if (csr == 0x344) return mip();
  const int id = uc_csr(csr);
  if (id < 0) return std::nullopt;
  return reg(id);
}

bool Rv32Core::debug_set_csr(uint32_t csr, uint32_t value) {
  const int id = uc_csr(csr);
  if (id < 0 || csr == 0x301) return false;  // mip and misa are not the debugger's to change
  set_reg(id, value);
  return true;
}

size_t Rv32Core::debug_read(uint32_t addr, uint8_t* dst, size_t len) {
  size_t done = 0;
  while (done < len) {
    const uint64_t a = uint64_t(addr) + done;
    if (a > 0xFFFFFFFFull) break;
    const uint32_t at = static_cast<uint32_t>(a);
    if (const uint8_t* p = host_ptr(at, 1)) {  // ROM or RAM: as far as the region goes
      size_t n = 1;
      while (done + n < len && host_ptr(at + static_cast<uint32_t>(n), 1) == p + n) ++n;
      std::memcpy(dst + done, p, n);
      done += n;
      continue;
    }
    if (at >= AIMC_RV_CHIP_BASE && at - AIMC_RV_CHIP_BASE < AIMC_REGS_SIZE) {
      // The chip's registers, a word at a time through debug transport (no side effect).
      const uint32_t off = (at - AIMC_RV_CHIP_BASE) & ~3u;
      uint32_t word = 0;
      tlm::tlm_generic_payload gp;
      sim::set_plain(gp, tlm::TLM_READ_COMMAND, off, &word, 4);
      if (chip_regs->transport_dbg(gp) != 4) break;
      const uint32_t skip = at - AIMC_RV_CHIP_BASE - off;
      const size_t n = std::min<size_t>(4 - skip, len - done);
      std::memcpy(dst + done, reinterpret_cast<const uint8_t*>(&word) + skip, n);
      done += n;
      continue;
    }
    break;  // a device with side effects on read (PLIC claim, ...) or nothing: refused
  }
  return done;
}

bool Rv32Core::debug_write(uint32_t addr, const uint8_t* src, size_t len) {
  if (len == 0) return true;
  uint8_t* p = host_ptr(addr, static_cast<uint32_t>(len));
  if (!p) return false;
  std::memcpy(p, src, len);
  // Code may have been translated from these bytes (a debugger's `load`, a patched instruction).
  uc_ctl_remove_cache(uc_, addr, uint64_t(addr) + len);
  block_instrs_.clear();
  return true;
}

// ---- Break- and watchpoints ------------------------------------------------------------------

std::string Rv32Core::insert_breakpoint(uint32_t addr, bool hardware) {
  if (!debug_) return "no debugger attached";
  Debug& d = *debug_;
  for (const auto& b : d.breakpoints)
    if (b.addr == addr && b.hardware == hardware) return "";  // already there
  uc_hook h = 0;
  if (uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&code_hook<&Rv32Core::debug_breakpoint>),
                  this, addr, addr) != UC_ERR_OK)
    return "Unicorn refused the code hook";
  // Blocks translated before hold no call to the new hook.
  uc_ctl_remove_cache(uc_, addr, uint64_t(addr) + 1);
  d.breakpoints.push_back({addr, hardware, h});
  return "";
}

bool Rv32Core::remove_breakpoint(uint32_t addr, bool hardware) {
  if (!debug_) return false;
  auto& bps = debug_->breakpoints;
  const auto it = std::find_if(bps.begin(), bps.end(),
                               [&](const Debug::Breakpoint& b) { return b.addr == addr && b.hardware == hardware; });
  if (it == bps.end()) return false;
  uc_hook_del(uc_, it->hook);  // drops the blocks it was compiled into
  bps.erase(it);
  return true;
}

std::string Rv32Core::insert_watchpoint(uint32_t addr, uint32_t len, WatchKind kind) {
  if (!debug_) return "no debugger attached";
  if (len == 0 || uint64_t(addr) + len > 0x100000000ull) return "an empty range or one past 4 GiB";
  Debug& d = *debug_;
  for (const auto& w : d.watches)
    if (w.addr == addr && w.len == len && w.kind == kind) return "";
  const int types = kind == WatchKind::write ? UC_HOOK_MEM_WRITE
                    : kind == WatchKind::read ? UC_HOOK_MEM_READ
                                              : (UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE);
  // Unicorn matches a hook on the access's first byte: start early enough for any access that
  // overlaps the range (at most 8 bytes wide).
  const uint64_t begin = addr >= 7 ? addr - 7 : 0;
  uc_hook h = 0;
  if (uc_hook_add(uc_, &h, types, reinterpret_cast<void*>(&mem_hook<&Rv32Core::debug_memory>), this, begin,
                  uint64_t(addr) + len - 1) != UC_ERR_OK)
    return "Unicorn refused the memory hook";
  d.watches.push_back({addr, len, kind, h});
  debug_update_code_hook();
  // Translated loads and stores take the fast path unless a memory hook existed when they were
  // translated: translate again.
  uc_ctl_flush_tlb(uc_);
  return "";
}

bool Rv32Core::remove_watchpoint(uint32_t addr, uint32_t len, WatchKind kind) {
  if (!debug_) return false;
  auto& ws = debug_->watches;
  const auto it = std::find_if(ws.begin(), ws.end(), [&](const Debug::Watch& w) {
    return w.addr == addr && w.len == len && w.kind == kind;
  });
  if (it == ws.end()) return false;
  uc_hook_del(uc_, it->hook);
  ws.erase(it);
  debug_update_code_hook();
  if (ws.empty()) uc_ctl_flush_tlb(uc_);  // back to the fast path
  return true;
}

void Rv32Core::debug_update_code_hook() {
  Debug& d = *debug_;
  const bool need = d.stepping || !d.watches.empty();
  if (need == d.insn_hook_on) return;
  if (need) {
    if (uc_hook_add(uc_, &d.insn_hook, UC_HOOK_CODE, reinterpret_cast<void*>(&code_hook<&Rv32Core::debug_code>),
                    this, 1, 0) != UC_ERR_OK)
      return;
    uc_ctl_flush_tlb(uc_);  // every block is to call it
  } else {
    uc_hook_del(uc_, d.insn_hook);  // drops the blocks that call it
  }
  d.insn_hook_on = need;
}

// ---- The hooks -------------------------------------------------------------------------------

void Rv32Core::debug_request_stop(const DebugStop& stop) {
  debug_->stop = stop;
  request_stop(Stop::debug, stop.pc);
}

void Rv32Core::debug_code(uint64_t addr) {
  Debug& d = *debug_;
  const auto pc = static_cast<uint32_t>(addr);
  d.insn_pc = pc;
  ++d.insns_since_resume;
  if (d.after_access) {  // a device access was watched: it is done, stop before this instruction
    DebugStop s = *d.after_access;
    d.after_access.reset();
    s.pc = pc;
    debug_request_stop(s);
    return;
  }
  if (!d.stepping) return;
  if (!d.step_started) {
    d.step_started = true;
    return;
  }
  DebugStop s;
  s.kind = DebugStop::Kind::step;
  s.pc = pc;
  debug_request_stop(s);
}

void Rv32Core::debug_breakpoint(uint64_t addr) {
  Debug& d = *debug_;
  const auto pc = static_cast<uint32_t>(addr);
  // The instruction a step starts from runs even with a breakpoint on it.
  if (d.stepping && pc == d.resume_pc && !d.step_started) return;
  if (d.stepping && pc == d.resume_pc && d.insns_since_resume <= 1 && d.insn_hook_on) return;
  DebugStop s;
  s.kind = DebugStop::Kind::breakpoint;
  s.pc = pc;
  for (const auto& b : d.breakpoints)
    if (b.addr == pc) s.hardware = b.hardware;
  debug_request_stop(s);
}

void Rv32Core::debug_memory(int type, uint64_t addr, int size) {
  Debug& d = *debug_;
  if (stop_ == Stop::debug || d.after_access) return;  // one stop at a time
  const bool write = type == UC_MEM_WRITE;
  for (const auto& w : d.watches) {
    if (!overlaps(addr, static_cast<uint64_t>(size), w.addr, w.len)) continue;
    if (w.kind == WatchKind::write && !write) continue;
    if (w.kind == WatchKind::read && write) continue;
    // Resuming from a watchpoint, GDB steps over the access that stopped it.
    if (d.resumed_from_watch && d.insns_since_resume <= 1 && d.insn_pc == d.resume_pc) return;
    DebugStop s;
    s.kind = DebugStop::Kind::watchpoint;
    s.watch = w.kind;
    s.address = static_cast<uint32_t>(std::max<uint64_t>(addr, w.addr));
    uint8_t* p = host_ptr(static_cast<uint32_t>(addr), static_cast<uint32_t>(size));
    if (p) {  // ROM or RAM: stop before the access (a store is put back)
      if (write) {
        d.undo.assign(p, p + size);
        d.undo_addr = static_cast<uint32_t>(addr);
      }
      s.pc = d.insn_pc;
      debug_request_stop(s);
    } else {  // a device: its access cannot be undone; stop before the next instruction
      d.after_access = s;
    }
    return;
  }
}

// ---- Halts and resumes -----------------------------------------------------------------------

void Rv32Core::debug_halt(DebugStop stop) {
  Debug& d = *debug_;
  stop.pc = pc_;
  const DebugResume r = d.debugger->halted(stop);
  switch (r) {
    case DebugResume::cont:
    case DebugResume::step:
      d.stepping = r == DebugResume::step;
      d.step_started = false;
      d.resume_pc = pc_;
      d.insns_since_resume = 0;
      d.resumed_from_watch = stop.kind == DebugStop::Kind::watchpoint;
      d.after_access.reset();
      debug_update_code_hook();
      break;
    case DebugResume::detach: debug_detach(); break;
    case DebugResume::kill:
      d.killed = true;
      end_killed();
      break;
  }
}

void Rv32Core::debug_detach() {
  Debug& d = *debug_;
  for (const auto& b : d.breakpoints) uc_hook_del(uc_, b.hook);
  for (const auto& w : d.watches) uc_hook_del(uc_, w.hook);
  if (d.insn_hook_on) uc_hook_del(uc_, d.insn_hook);
  const bool had_watches = !d.watches.empty();
  debug_.reset();  // from here on, the core runs as if no debugger had been there
  if (had_watches) uc_ctl_flush_tlb(uc_);
}

void Rv32Core::debug_after_stop() {
  Debug& d = *debug_;
  uncount_from(pc_);
  if (!d.undo.empty()) {
    if (uint8_t* p = host_ptr(d.undo_addr, static_cast<uint32_t>(d.undo.size())))
      std::memcpy(p, d.undo.data(), d.undo.size());
    d.undo.clear();
  }
  debug_halt(d.stop);
}

void Rv32Core::debug_sync_point() {
  Debug& d = *debug_;
  if (d.after_access) {  // watched device access, then a stop before the next instruction's hook
    DebugStop s = *d.after_access;
    d.after_access.reset();
    debug_halt(s);
    return;
  }
  if (d.stepping && d.step_started) {  // the instruction is done (a trap, a wfi, a semihosting call)
    DebugStop s;
    s.kind = DebugStop::Kind::step;
    debug_halt(s);
    return;
  }
  if (d.debugger->interrupt_requested()) {
    DebugStop s;
    s.kind = DebugStop::Kind::interrupt;
    debug_halt(s);
  }
}

void Rv32Core::debug_end() {
  if (!debug_) return;
  Debug& d = *debug_;
  DebugStop s;
  s.pc = pc_;
  if (d.killed) {
    s.kind = DebugStop::Kind::killed;
  } else if (!fault_.empty()) {
    // Show the state the firmware faulted in; whatever GDB does next ends the run.
    s.kind = DebugStop::Kind::fault;
    s.signal = fault_signal_ ? fault_signal_ : rsp::kSigAbrt;
    s.fault_message = fault_;
    d.debugger->halted(s);
  } else {
    s.kind = DebugStop::Kind::exited;
    s.exit_code = exit_code_;
  }
  d.debugger->ended(s);
}

void Rv32Core::end_killed() {  // while halted: the run loop sees finished_ and ends
  if (finished_) return;
  finished_ = true;
  exit_code_ = 137;  // as a shell reports a process ended by SIGKILL
  fault_ = "killed from the debugger (GDB kill)";
}

}  // namespace aimc::cpu
