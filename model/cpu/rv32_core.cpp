#include "cpu/rv32_core.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

#include <unicorn/unicorn.h>

#include "aimc_regs.h"
#include "aimc_rv32.h"
#include "cpu/gdb_rsp.h"
#include "cpu/rv32_debug.h"
#include "cpu/uc_callbacks.h"
#include "sim/accounting.h"
#include "sim/payload.h"

namespace aimc::cpu {

namespace {

constexpr uint32_t kMmioTestSize = 0x1000, kMmioClintSize = 0x10000, kMmioPlicSize = 0x400000,
                   kMmioUartSize = 0x1000;
constexpr uint32_t kInsnEbreak = 0x00100073u, kInsnWfi = 0x10500073u;
constexpr uint32_t kSemihostPre = 0x01f01013u, kSemihostPost = 0x40705013u;  // slli/srai x0
constexpr uint32_t kMstatusMie = 1u << 3, kMstatusMpie = 1u << 7, kMstatusMpp = 3u << 11;
constexpr uint32_t kMipMsip = 1u << 3, kMipMtip = 1u << 7, kMipMeip = 1u << 11;
constexpr uint32_t kInterrupt = 0x80000000u;
constexpr uint64_t kCounterEveryPs = 1'000'000;  // the instruction counter's trace sample period

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

const char* cause_name(uint32_t cause) {
  switch (cause) {
    case 0: return "instruction address misaligned";
    case 1: return "instruction access fault";
    case 2: return "illegal instruction";
    case 3: return "breakpoint";
    case 4: return "load address misaligned";
    case 5: return "load access fault";
    case 6: return "store address misaligned";
    case 7: return "store access fault";
    case 8: return "ecall from U-mode";
    case 11: return "ecall from M-mode";
    default: return "exception";
  }
}

bool whole_pages(int kib) { return kib % 4 == 0; }

// GDB's signal for an exception cause (rsp::Signal), for a debugger shown the fault.
int fault_signal(uint32_t cause) {
  switch (cause) {
    case 0:
    case 4:
    case 6: return rsp::kSigBus;
    case 1:
    case 5:
    case 7: return rsp::kSigSegv;
    case 2: return rsp::kSigIll;
    default: return rsp::kSigTrap;
  }
}

}  // namespace

std::vector<MemoryRegion> core_memories(const config::CpuConfig& cfg) {
  return {MemoryRegion{"ROM", AIMC_RV_ROM_BASE, uint64_t(cfg.rom_kib) * 1024},
          MemoryRegion{"RAM", AIMC_RV_RAM_BASE, uint64_t(cfg.ram_kib) * 1024}};
}

std::string check_cpu_config(const config::CpuConfig& cfg) {
  if (!whole_pages(cfg.rom_kib))
    return "cpu.rom_kib: " + std::to_string(cfg.rom_kib) + " is not a whole number of 4 KiB pages";
  if (!whole_pages(cfg.ram_kib))
    return "cpu.ram_kib: " + std::to_string(cfg.ram_kib) + " is not a whole number of 4 KiB pages";
  return "";
}

// Semihosting's view of the core's memory: ROM and RAM only (never a device).
class Rv32Core::Memory : public GuestMemory {
 public:
  explicit Memory(Rv32Core& core) : core_(core) {}
  bool read(uint32_t addr, void* dst, uint32_t len) override {
    const uint8_t* p = at(addr, len);
    if (!p) return false;
    if (len) std::memcpy(dst, p, len);
    return true;
  }
  bool write(uint32_t addr, const void* src, uint32_t len) override {
    if (addr >= AIMC_RV_ROM_BASE && addr < AIMC_RV_ROM_BASE + core_.rom_.size()) return false;
    uint8_t* p = at(addr, len);
    if (!p) return false;
    if (len) std::memcpy(p, src, len);
    return true;
  }
  uint8_t* at(uint32_t addr, uint32_t len) {
    for (const MemoryRegion& m : regions())
      if (m.contains(addr, len))
        return (m.base == AIMC_RV_ROM_BASE ? core_.rom_.data() : core_.ram_) + (addr - m.base);
    return nullptr;
  }

 private:
  std::vector<MemoryRegion> regions() const {
    return {MemoryRegion{"ROM", AIMC_RV_ROM_BASE, core_.rom_.size()},
            MemoryRegion{"RAM", AIMC_RV_RAM_BASE, core_.ram_bytes_}};
  }
  Rv32Core& core_;
};

uint8_t* Rv32Core::host_ptr(uint32_t addr, uint32_t len) { return memory_->at(addr, len); }

// ---- Unicorn's callbacks (C), forwarded to the core ------------------------------------------

using namespace uc_callbacks;

Rv32Core::Rv32Core(sc_core::sc_module_name name, const config::CpuConfig& cfg,
                   sim::EnergyLedger& ledger, sim::TraceSink& trace)
    : sc_module(name),
      chip_regs("chip_regs"),
      dma_target("dma_target"),
      irq_in("irq_in", AIMC_RV_IRQ_CHIP_COUNT),
      cfg_(cfg),
      ledger_(ledger),
      trace_(trace),
      c_cpu_(ledger.component("cpu")),
      track_(trace.track("cpu")),
      rom_(uint64_t(cfg.rom_kib) * 1024, 0),
      ram_buf_(uint64_t(cfg.ram_kib) * 1024, 0),
      ram_(ram_buf_.data()),
      ram_bytes_(ram_buf_.size()),
      memory_(std::make_unique<Memory>(*this)),
      ps_per_instr_(cfg.cpi * 1e6 / cfg.clock_mhz),
      cycles_per_instr_(cfg.cpi),
      quantum_ps_(sim::ns_to_ps(cfg.quantum_ns)) {
  const std::string bad = check_cpu_config(cfg);
  if (!bad.empty()) throw std::invalid_argument(bad);
  dma_target.register_b_transport(this, &Rv32Core::dma_access);
  dma_target.register_transport_dbg(this, &Rv32Core::dma_debug);
  console_ = [](int stream, std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stream == 2 ? stderr : stdout);
  };
  if (uc_open(UC_ARCH_RISCV, UC_MODE_RISCV32, &uc_) != UC_ERR_OK)
    throw std::runtime_error("Rv32Core: Unicorn cannot open a RISC-V 32 CPU");
  uc_ctl_set_cpu_model(uc_, UC_CPU_RISCV32_SIFIVE_E31);  // RV32IMAC, machine and user modes
  auto check = [](uc_err e, const char* what) {
    if (e != UC_ERR_OK) throw std::runtime_error(std::string("Rv32Core: ") + what + ": " + uc_strerror(e));
  };
  check(uc_mem_map_ptr(uc_, AIMC_RV_ROM_BASE, rom_.size(), UC_PROT_READ | UC_PROT_EXEC, rom_.data()),
        "mapping ROM");
  check(uc_mem_map_ptr(uc_, AIMC_RV_RAM_BASE, ram_bytes_, UC_PROT_ALL, ram_), "mapping RAM");
  check(uc_mmio_map(uc_, AIMC_RV_CHIP_BASE, AIMC_REGS_SIZE, &mmio_read<&Rv32Core::chip_read>, this,
                    &mmio_write<&Rv32Core::chip_write>, this),
        "mapping the chip's registers");
  check(uc_mmio_map(uc_, AIMC_RV_PLIC_BASE, kMmioPlicSize, &mmio_read<&Rv32Core::plic_read>, this,
                    &mmio_write<&Rv32Core::plic_write>, this),
        "mapping the PLIC");
  check(uc_mmio_map(uc_, AIMC_RV_CLINT_BASE, kMmioClintSize, &mmio_read<&Rv32Core::clint_read>, this,
                    &mmio_write<&Rv32Core::clint_write>, this),
        "mapping the CLINT");
  check(uc_mmio_map(uc_, AIMC_RV_UART_BASE, kMmioUartSize, &mmio_read<&Rv32Core::uart_read>, this,
                    &mmio_write<&Rv32Core::uart_write>, this),
        "mapping the UART");
  check(uc_mmio_map(uc_, AIMC_RV_TEST_BASE, kMmioTestSize, nullptr, nullptr,
                    &mmio_write<&Rv32Core::test_write>, this),
        "mapping the test device");
  uc_hook h;
  check(uc_hook_add(uc_, &h, UC_HOOK_BLOCK,
                    reinterpret_cast<void*>(&block_hook<&Rv32Core::count_block>), this, 1, 0),
        "hooking blocks");
  check(uc_hook_add(uc_, &h, UC_HOOK_MEM_INVALID,
                    reinterpret_cast<void*>(&invalid_hook<&Rv32Core::note_invalid>), this, 1, 0),
        "hooking invalid accesses");
  check(uc_hook_add(uc_, &h, UC_HOOK_INTR,
                    reinterpret_cast<void*>(&intr_hook<&Rv32Core::note_exception>), this, 1, 0),
        "hooking exceptions");
  ledger_.set_static_power(c_cpu_, cfg.p_static_uw * 1e-6);
  SC_HAS_PROCESS(Rv32Core);
  SC_THREAD(run);
  set_stack_size(16 * 1024 * 1024);  // Unicorn's translator runs on this thread's stack
}

Rv32Core::~Rv32Core() {
  if (uc_) uc_close(uc_);
}

// The chip's DMA into RAM (bus address = core address - RAM base), as the chip's host memory:
// 8-bit data, no byte enables, inside RAM; the bytes move at once (the chip's link costs the time).
unsigned int Rv32Core::dma_debug(tlm::tlm_generic_payload& gp) {
  const uint64_t addr = gp.get_address();
  const unsigned len = gp.get_data_length();
  if (gp.get_byte_enable_ptr() || addr > ram_bytes_ || len > ram_bytes_ - addr) {
    gp.set_response_status(gp.get_byte_enable_ptr() ? tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE
                                                    : tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return 0;
  }
  if (gp.get_streaming_width() < len) {
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return 0;
  }
  if (gp.is_write()) std::memcpy(ram_ + addr, gp.get_data_ptr(), len);
  else if (gp.is_read()) std::memcpy(gp.get_data_ptr(), ram_ + addr, len);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  return len;
}

void Rv32Core::dma_access(tlm::tlm_generic_payload& gp, sc_core::sc_time&) { dma_debug(gp); }

void Rv32Core::load(const ElfImage& image, const std::string& command_line) {
  image_copy_ = image;
  image_ = &image_copy_;
  for (const ElfSegment& s : image.segments) {
    uint8_t* p = memory_->at(s.load_addr, s.mem_size);
    if (!p) throw ElfError(image.path + ": a segment does not fit the core's memories");
    if (!s.bytes.empty()) std::memcpy(p, s.bytes.data(), s.bytes.size());  // .bss has no bytes
    std::memset(p + s.bytes.size(), 0, s.mem_size - s.bytes.size());
  }
  pc_ = image.entry;
  set_reg(UC_RISCV_REG_PC, pc_);
  // An interrupt pending when firmware sets mstatus.MIE or an mie bit is taken right after that
  // CSR instruction, as on a real core. Unicorn does not report CSR writes, so the loaded code is
  // scanned for CSR instructions on mstatus (0x300) and mie (0x304), and the instruction after each
  // gets a code hook (a hook on one address costs nothing elsewhere). A false match from data only
  // adds a check.
  for (const ElfSegment& seg : image.segments) {
    const std::vector<uint8_t>& b = seg.bytes;
    for (size_t off = 0; off + 4 <= b.size(); off += 2) {
      const uint32_t insn = uint32_t(b[off]) | uint32_t(b[off + 1]) << 8 | uint32_t(b[off + 2]) << 16 |
                            uint32_t(b[off + 3]) << 24;
      const uint32_t funct3 = (insn >> 12) & 7u, csr = insn >> 20;
      if ((insn & 0x7Fu) != 0x73u || funct3 == 0 || funct3 == 4 || (csr != 0x300u && csr != 0x304u))
        continue;
      const uint64_t next = seg.load_addr + off + 4;
      uc_hook h;
      if (uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&code_hook<&Rv32Core::after_csr_write>),
                      this, next, next) != UC_ERR_OK)
        throw std::runtime_error("Rv32Core: cannot hook the code after a CSR write");
    }
  }
  semihost_ = std::make_unique<Semihost>(
      command_line,
      [this](int stream, std::string_view text) {
        console_out(stream, text, stream == 2 ? "stderr" : "stdout");
      },
      [this] { return now_ps() / 1000; });
}

uint32_t Rv32Core::reg(int id) const {
  uint32_t v = 0;
  uc_reg_read(uc_, id, &v);
  return v;
}

void Rv32Core::set_reg(int id, uint32_t v) { uc_reg_write(uc_, id, &v); }

uint32_t Rv32Core::pc() const { return pc_; }

uint64_t Rv32Core::now_ps() const {
  return sim::to_ps(sc_core::sc_time_stamp()) + ahead_ps();
}

// ---- Time and energy -------------------------------------------------------------------------

void Rv32Core::count_block(uint64_t addr, uint32_t size) {
  if (!traps_.empty()) note_trap_exits();
  block_counted_ = false;
  if (deferred_ != Stop::none) {  // asked for by a device access of the previous block
    request_stop(deferred_, addr);
    deferred_ = Stop::none;
    return;  // this block does not run now: it is not counted
  }
  // The quantum is used up: synchronise before this block (it runs, and is counted, after the
  // resume). Checked before counting it, so a block longer than the quantum still runs.
  if (pending_ps_ >= static_cast<double>(quantum_ps_)) {
    request_stop(Stop::quantum, addr);
    return;
  }
  block_addr_ = addr;
  block_size_ = size;
  block_counted_ = true;
  const uint64_t key = addr << 16 | (size & 0xFFFFu);
  auto it = block_instrs_.find(key);
  uint32_t n;
  if (it != block_instrs_.end()) {
    n = it->second;
  } else {  // decode the instruction lengths once: 32-bit when the low two bits are 11
    n = 0;
    const uint8_t* p = memory_->at(static_cast<uint32_t>(addr), size);
    for (uint32_t off = 0; off < size; ++n) {
      const uint8_t lo = p ? p[off] : 0x3;
      off += (lo & 3u) == 3u ? 4 : 2;
    }
    block_instrs_.emplace(key, n);
  }
  stats_.instructions += n;
  pending_ps_ += n * ps_per_instr_;
  pending_cycles_ += n * cycles_per_instr_;
}

void Rv32Core::uncount_from(uint32_t pc) {
  if (!block_counted_ || pc < block_addr_ || pc >= block_addr_ + block_size_) return;
  uint32_t n = 0;
  const uint32_t end = static_cast<uint32_t>(block_addr_ + block_size_);
  const uint8_t* p = memory_->at(pc, end - pc);
  for (uint32_t off = 0; off < end - pc; ++n) {
    const uint8_t lo = p ? p[off] : 0x3;
    off += (lo & 3u) == 3u ? 4 : 2;
  }
  block_counted_ = false;
  stats_.instructions -= std::min<uint64_t>(n, stats_.instructions);
  pending_ps_ -= n * ps_per_instr_;
  pending_cycles_ -= n * cycles_per_instr_;
}

void Rv32Core::note_trap_exits() {
  // enter_trap sets mstatus.MPP to M; mret sets it to the least privileged mode (U on this
  // core), seen at the block it returns to. With nested handlers, an outer one's mret is seen
  // once MPP has been M again in between (the outer handler restores the mstatus it saved).
  if ((reg(UC_RISCV_REG_MSTATUS) & kMstatusMpp) == kMstatusMpp) {
    trap_exit_armed_ = true;
    return;
  }
  if (!trap_exit_armed_) return;
  trap_exit_armed_ = false;
  const Trap trap = traps_.back();
  traps_.pop_back();
  const uint64_t t = now_ps();
  stats_.handler_ps += t - std::min(t, trap.t_ps);
  ++stats_.handler_exits;
  if (trace_.enabled()) {
    const bool irq = trap.cause & kInterrupt;
    const uint32_t code = trap.cause & ~kInterrupt;
    const std::string what = irq ? (code == 11 ? "handler: external interrupt"
                                    : code == 7 ? "handler: timer interrupt"
                                                : "handler: software interrupt")
                                 : std::string("handler: ") + cause_name(code);
    trace_.span(track_, what, trap.t_ps, t - std::min(t, trap.t_ps), {{"mcause", trap.cause}});
  }
}

void Rv32Core::note_invalid(uint64_t addr, int) { fault_addr_ = addr; }

void Rv32Core::after_csr_write(uint64_t addr) {
  if ((reg(UC_RISCV_REG_MSTATUS) & kMstatusMie) && interrupt_wakes()) request_stop(Stop::interrupt, addr);
}

void Rv32Core::note_exception(uint32_t intno) {
  intno_ = static_cast<int>(intno);
  uc_emu_stop(uc_);  // the error Unicorn returns carries the exception's pc
}

void Rv32Core::sync() {
  if (pending_cycles_ >= 1.0) {
    const double cycles = std::floor(pending_cycles_);
    pending_cycles_ -= cycles;
    stats_.cycles += static_cast<uint64_t>(cycles);
    ledger_.post(c_cpu_, sim::EnergyLedger::kNoLayer, ledger_.phase(),
                 cycles * cfg_.e_cycle_pj * 1e-12, static_cast<uint64_t>(cycles));
  }
  const uint64_t d = ahead_ps();  // a debugger's stop may have taken back more than was waited
  pending_ps_ -= static_cast<double>(d);
  if (d > 0) sc_core::wait(sim::ps_to_time(d));
  if (trace_.enabled()) {
    const uint64_t t = sim::to_ps(sc_core::sc_time_stamp());
    if (t >= last_counter_ps_ + kCounterEveryPs || last_counter_ps_ == 0) {
      trace_.counter(track_, "instructions", t, static_cast<double>(stats_.instructions));
      last_counter_ps_ = t;
    }
  }
}

void Rv32Core::defer_stop(Stop why) {
  if (stop_rank(why) > stop_rank(deferred_)) deferred_ = why;
}

int Rv32Core::stop_rank(Stop s) {
  return s == Stop::exit || s == Stop::fault ? 3 : s == Stop::bus_error ? 2 : s == Stop::none ? 0 : 1;
}

void Rv32Core::request_stop(Stop why, uint64_t at) {
  stop_pc_ = at;
  // The stronger reason wins: the end of the run, then an access fault (which must be taken), then
  // a synchronisation or an interrupt (both looked at whenever the core stops).
  if (stop_rank(why) > stop_rank(stop_)) stop_ = why;
  uc_emu_stop(uc_);
}

// ---- Interrupts and traps --------------------------------------------------------------------

void Rv32Core::update_plic() {
  for (uint32_t n = 0; n < AIMC_RV_IRQ_CHIP_COUNT; ++n)
    plic_.set_level(AIMC_RV_IRQ_CHIP_FIRST + n, irq_in[n].read());
}

uint32_t Rv32Core::mip() {
  update_plic();
  uint32_t v = 0;
  if (plic_.request()) v |= kMipMeip;
  if (clint_.timer_pending(now_ps() / 1000)) v |= kMipMtip;
  if (clint_.software_pending()) v |= kMipMsip;
  return v;
}

bool Rv32Core::interrupt_wakes() { return (mip() & reg(UC_RISCV_REG_MIE)) != 0; }

bool Rv32Core::deliver_interrupt() {
  const uint32_t pending = mip() & reg(UC_RISCV_REG_MIE);
  if (!pending || !(reg(UC_RISCV_REG_MSTATUS) & kMstatusMie)) return false;
  // Priority of the privileged specification: external, then software, then timer.
  const uint32_t cause = pending & kMipMeip ? 11u : pending & kMipMsip ? 3u : 7u;
  ++stats_.interrupts;
  enter_trap(kInterrupt | cause, 0, pc_);
  return true;
}

void Rv32Core::enter_trap(uint32_t cause, uint32_t tval, uint32_t epc) {
  uint32_t mstatus = reg(UC_RISCV_REG_MSTATUS);
  mstatus = (mstatus & ~(kMstatusMpie | kMstatusMie)) | ((mstatus & kMstatusMie) ? kMstatusMpie : 0) |
            kMstatusMpp;
  set_reg(UC_RISCV_REG_MSTATUS, mstatus);
  set_reg(UC_RISCV_REG_MEPC, epc);
  set_reg(UC_RISCV_REG_MCAUSE, cause);
  set_reg(UC_RISCV_REG_MTVAL, tval);
  const uint32_t mtvec = reg(UC_RISCV_REG_MTVEC);
  const uint32_t base = mtvec & ~3u;
  pc_ = (mtvec & 1u) && (cause & kInterrupt) ? base + 4 * (cause & ~kInterrupt) : base;
  traps_.push_back({now_ps(), cause});
  trap_exit_armed_ = true;
  if (trace_.enabled())
    trace_.instant(track_, (cause & kInterrupt) ? "interrupt" : "exception", now_ps(),
                   {{"mcause", cause}, {"mepc", hex(epc)}, {"mtval", hex(tval)}});
}

bool Rv32Core::take_exception(uint32_t cause, uint32_t tval, uint32_t epc) {
  const uint32_t base = reg(UC_RISCV_REG_MTVEC) & ~3u;
  std::string what = std::string(cause_name(cause)) + " at " +
                     (image_ ? image_->describe(epc) : hex(epc));
  if (cause == 1 || cause == 5 || cause == 7 || cause == 0 || cause == 4 || cause == 6)
    what += ", address " + hex(tval);
  if ((cause == 5 || cause == 7) && tval >= AIMC_RV_CHIP_BASE && tval - AIMC_RV_CHIP_BASE < AIMC_REGS_SIZE)
    what += " (the chip answered with a bus error: an unmapped register or an access other than "
            "aligned 32 bits)";
  else if (cause == 2)
    what += ", instruction " + hex(tval);
  if (base == 0) {
    end_fault(what + " (no trap handler: mtvec is 0)", fault_signal(cause));
    return false;
  }
  if (epc == base) {
    end_fault(what + " (in the trap handler itself)", fault_signal(cause));
    return false;
  }
  ++stats_.exceptions;
  enter_trap(cause, tval, epc);
  return true;
}

bool Rv32Core::handle_stop_error(int err) {
  switch (err) {
    case UC_ERR_INSN_INVALID: {
      uint32_t w[3] = {0, 0, 0};
      memory_->read(pc_ - 4, &w[0], 4);
      memory_->read(pc_, &w[1], 4);
      memory_->read(pc_ + 4, &w[2], 4);
      if (w[1] == kInsnEbreak && w[0] == kSemihostPre && w[2] == kSemihostPost && semihost_) {
        ++stats_.semihost_calls;
        const SemihostResult r = semihost_->call(reg(UC_RISCV_REG_A0), reg(UC_RISCV_REG_A1), *memory_);
        if (r.exit) {
          end(r.exit_code);
          return false;
        }
        set_reg(UC_RISCV_REG_A0, r.value);
        pc_ += 4;
        return true;
      }
      if (w[1] == kInsnEbreak) return take_exception(3, pc_, pc_);
      uint32_t insn = w[1];
      if ((insn & 3u) != 3u) insn &= 0xFFFFu;  // a compressed instruction
      return take_exception(2, insn, pc_);
    }
    case UC_ERR_READ_UNMAPPED:
    case UC_ERR_READ_PROT: return take_exception(5, static_cast<uint32_t>(fault_addr_), pc_);
    case UC_ERR_WRITE_UNMAPPED:
    case UC_ERR_WRITE_PROT: return take_exception(7, static_cast<uint32_t>(fault_addr_), pc_);
    case UC_ERR_FETCH_UNMAPPED:
    case UC_ERR_FETCH_PROT: return take_exception(1, pc_, pc_);
    case UC_ERR_READ_UNALIGNED: return take_exception(4, static_cast<uint32_t>(fault_addr_), pc_);
    case UC_ERR_WRITE_UNALIGNED: return take_exception(6, static_cast<uint32_t>(fault_addr_), pc_);
    case UC_ERR_FETCH_UNALIGNED: return take_exception(0, pc_, pc_);
    case UC_ERR_EXCEPTION:
      if (intno_ == 8 || intno_ == 11) return take_exception(static_cast<uint32_t>(intno_), 0, pc_);
      end_fault("CPU exception " + std::to_string(intno_) + " at " +
                (image_ ? image_->describe(pc_) : hex(pc_)));
      return false;
    default:
      end_fault(std::string("the CPU emulation stopped: ") + uc_strerror(static_cast<uc_err>(err)) +
                " at " + (image_ ? image_->describe(pc_) : hex(pc_)));
      return false;
  }
}

void Rv32Core::sleep() {
  sync();
  const uint64_t t0 = sim::to_ps(sc_core::sc_time_stamp());
  asleep_ = true;
  while (!interrupt_wakes()) {
    const bool timer = (reg(UC_RISCV_REG_MIE) & kMipMtip) != 0 &&
                       clint_.mtimecmp() != std::numeric_limits<uint64_t>::max();
    sc_core::sc_event_or_list lines;  // any chip interrupt source that changes
    for (auto& in : irq_in) lines |= in.value_changed_event();
    if (timer) {
      const uint64_t now_ns = sim::to_ps(sc_core::sc_time_stamp()) / 1000;
      const uint64_t in_ns = clint_.mtimecmp() > now_ns ? clint_.mtimecmp() - now_ns : 0;
      sc_core::wait(sim::ps_to_time(in_ns * 1000), lines);
    } else {
      sc_core::wait(lines);  // nothing else can wake the core
    }
  }
  asleep_ = false;
  const uint64_t t1 = sim::to_ps(sc_core::sc_time_stamp());
  stats_.sleep_ps += t1 - t0;
  if (trace_.enabled() && t1 > t0) trace_.span(track_, "wfi", t0, t1 - t0);
}

// ---- The run ---------------------------------------------------------------------------------

void Rv32Core::run() {
  try {
    run_firmware();
  } catch (const sc_core::sc_unwind_exception&) {
    throw;
  } catch (const std::exception& e) {
    end_fault(std::string("model error: ") + e.what());
    debug_end();
  }
}

void Rv32Core::run_firmware() {
  if (!image_) {
    end_fault("no firmware image loaded");
    return;
  }
  if (debug_) debug_halt(DebugStop{});  // before the first instruction
  while (!finished_) {
    stop_ = Stop::none;
    intno_ = -1;
    stop_pc_ = kNoStopPc;
    const uc_err err = uc_emu_start(uc_, pc_, 0, 0, 0);
    // A stop from a hook resumes at the hook's address: Unicorn does not write the pc back when it
    // leaves a chain of linked blocks, so the pc it reports may be an earlier block's.
    pc_ = stop_pc_ != kNoStopPc && err == UC_ERR_OK ? static_cast<uint32_t>(stop_pc_) : reg(UC_RISCV_REG_PC);
    const bool halted = stop_ == Stop::none && deferred_ == Stop::none;  // a wfi
    if (stop_rank(deferred_) > stop_rank(stop_)) stop_ = deferred_;
    if (stop_ != Stop::debug) deferred_ = Stop::none;  // a debugger's stop keeps it for the resume
    if (finished_) break;
    if (err != UC_ERR_OK) {
      if (!handle_stop_error(err)) break;
      if (debug_ && !finished_) debug_sync_point();
      continue;
    }
    if (stop_ == Stop::debug) {
      debug_after_stop();
      continue;
    }
    switch (stop_) {
      case Stop::bus_error:
        if (take_exception(bus_error_store_ ? 7u : 5u, bus_error_addr_, faulting_access_pc(bus_error_store_)))
          sync();
        break;
      case Stop::quantum:
        sync();
        deliver_interrupt();
        break;
      case Stop::interrupt:  // from a CSR write's hook, mid-block: the rest of it runs later
        uncount_from(pc_);
        deliver_interrupt();
        break;
      case Stop::none: {  // Unicorn returns when the CPU halts: a wfi
        uint32_t prev = 0;
        memory_->read(pc_ - 4, &prev, 4);
        if (halted && prev == kInsnWfi) {
          sleep();
          if (finished_) break;
        }
        deliver_interrupt();
        break;
      }
      case Stop::debug:
      case Stop::exit:
      case Stop::fault: break;
    }
    if (debug_ && !finished_) debug_sync_point();
  }
  sync();
  for (int s = 0; s < 3; ++s)
    if (!line_[s].empty()) console_out(s == 0 ? 1 : s, "\n", s == 0 ? "uart" : s == 2 ? "stderr" : "stdout");
  std::fflush(stdout);
  debug_end();
}

void Rv32Core::end(int code) {
  finished_ = true;
  exit_code_ = code;
  defer_stop(Stop::exit);  // never uc_emu_stop from a device access: Unicorn would rerun its block
  if (trace_.enabled()) trace_.instant(track_, "exit", now_ps(), {{"code", code}});
}

void Rv32Core::end_fault(const std::string& why, int signal) {
  if (finished_) return;
  finished_ = true;
  exit_code_ = 1;
  fault_ = why;
  fault_signal_ = signal;
  defer_stop(Stop::fault);
  if (trace_.enabled()) trace_.instant(track_, "fault", now_ps(), {{"why", why}});
}

void Rv32Core::console_out(int stream, std::string_view text, const char* what) {
  console_(stream, text);
  if (!trace_.enabled()) return;
  std::string& line = line_[what[0] == 'u' ? 0 : stream];
  for (char c : text) {
    if (c == '\n') {
      trace_.instant(track_, what, now_ps(), {{"text", line}});
      line.clear();
    } else if (line.size() < 4096) {
      line.push_back(c);
    }
  }
}

// ---- Memory-mapped devices -------------------------------------------------------------------

bool Rv32Core::chip_access(tlm::tlm_command cmd, uint32_t off, unsigned size, uint32_t& data) {
  ++stats_.chip_accesses;
  if (cmd == tlm::TLM_READ_COMMAND) sync();  // status must not be read from the past
  tlm::tlm_generic_payload gp;
  sim::set_plain(gp, cmd, off, &data, size);  // the chip takes 32-bit accesses; it refuses others itself
  const uint64_t ahead = ahead_ps();
  pending_ps_ -= static_cast<double>(ahead);
  sc_core::sc_time delay = sim::ps_to_time(ahead);
  chip_regs->b_transport(gp, delay);
  pending_ps_ += static_cast<double>(sim::to_ps(delay));
  if (!gp.is_response_ok()) {  // an access fault, taken when Unicorn returns (run_firmware)
    bus_error_addr_ = AIMC_RV_CHIP_BASE + off;
    bus_error_store_ = cmd == tlm::TLM_WRITE_COMMAND;
    bus_error_block_ = block_addr_;
    bus_error_block_size_ = block_size_;
    if (trace_.enabled())
      trace_.instant(track_, "bus error", now_ps(),
                     {{"address", hex(bus_error_addr_)}, {"response", gp.get_response_string()}});
    defer_stop(Stop::bus_error);
    return false;
  }
  return true;
}

// The load (store) of the current block that made the device access: the block's first one, as
// Unicorn gives no pc inside a device access. Compressed C.LW/C.LWSP (C.SW/C.SWSP) included.
uint32_t Rv32Core::faulting_access_pc(bool store) {
  const uint32_t start = static_cast<uint32_t>(bus_error_block_);
  const uint32_t size = bus_error_block_size_;
  const uint8_t* p = memory_->at(start, size);
  for (uint32_t off = 0; p && off + 2 <= size;) {
    const uint32_t lo = uint32_t(p[off]) | uint32_t(p[off + 1]) << 8;
    if ((lo & 3u) == 3u) {
      const uint32_t opcode = lo & 0x7Fu;
      if ((!store && opcode == 0x03u) || (store && opcode == 0x23u)) return start + off;
      off += 4;
    } else {
      const uint32_t op = lo & 3u, funct3 = lo >> 13;
      if ((op == 0 || op == 2) && funct3 == (store ? 6u : 2u)) return start + off;
      off += 2;
    }
  }
  return start;
}

uint64_t Rv32Core::chip_read(uint64_t off, unsigned size) {
  uint32_t v = 0;
  if (!chip_access(tlm::TLM_READ_COMMAND, static_cast<uint32_t>(off), size, v)) return 0;
  return v;
}

void Rv32Core::chip_write(uint64_t off, unsigned size, uint64_t value) {
  uint32_t v = static_cast<uint32_t>(value);
  if (!chip_access(tlm::TLM_WRITE_COMMAND, static_cast<uint32_t>(off), size, v)) return;
  // A write may raise or enable an interrupt: take it at the next block boundary.
  if ((reg(UC_RISCV_REG_MSTATUS) & kMstatusMie) && interrupt_wakes()) defer_stop(Stop::interrupt);
}

// The PLIC sees the chip's lines as they are after everything the core did so far: a handler's
// write that acknowledged the chip's bit must have lowered the line before the claim is
// completed, or the source would pend again at once. The chip's signals follow its registers
// one delta cycle later, so a PLIC access first brings SystemC up to the core's time and lets
// two delta cycles pass (the chip's method runs, then its signals update).
void Rv32Core::settle_irq_lines() {
  sync();
  sc_core::wait(sc_core::SC_ZERO_TIME);
  sc_core::wait(sc_core::SC_ZERO_TIME);
  update_plic();
}

uint64_t Rv32Core::plic_read(uint64_t off, unsigned size) {
  uint32_t v = 0;
  settle_irq_lines();
  if (size != 4 || !plic_.read(static_cast<uint32_t>(off), v)) return 0;  // reserved: reads 0
  return v;
}

void Rv32Core::plic_write(uint64_t off, unsigned size, uint64_t value) {
  settle_irq_lines();
  if (size == 4) plic_.write(static_cast<uint32_t>(off), static_cast<uint32_t>(value));
  if ((reg(UC_RISCV_REG_MSTATUS) & kMstatusMie) && interrupt_wakes()) defer_stop(Stop::interrupt);
}

uint64_t Rv32Core::clint_read(uint64_t off, unsigned size) {
  uint32_t v = 0;
  if (size != 4 || !clint_.read(static_cast<uint32_t>(off), now_ps() / 1000, v)) return 0;
  return v;
}

void Rv32Core::clint_write(uint64_t off, unsigned size, uint64_t value) {
  if (size == 4) clint_.write(static_cast<uint32_t>(off), static_cast<uint32_t>(value));
  if ((reg(UC_RISCV_REG_MSTATUS) & kMstatusMie) && interrupt_wakes()) defer_stop(Stop::interrupt);
}

uint64_t Rv32Core::uart_read(uint64_t off, unsigned) {
  return off == AIMC_RV_UART_LSR ? 0x60u : 0u;  // THRE | TEMT: always ready to send
}

void Rv32Core::uart_write(uint64_t off, unsigned, uint64_t value) {
  if (off != AIMC_RV_UART_THR) return;  // the other 16550 registers: accepted, no effect
  const char c = static_cast<char>(value & 0xFFu);
  console_out(1, std::string_view(&c, 1), "uart");
}

void Rv32Core::test_write(uint64_t off, unsigned size, uint64_t value) {
  if (off != 0 || size != 4) return;
  const uint32_t v = static_cast<uint32_t>(value);
  if ((v & 0xFFFFu) == AIMC_RV_TEST_PASS) end(0);
  else if ((v & 0xFFFFu) == AIMC_RV_TEST_FAIL) end(static_cast<int>(v >> 16));
}

}  // namespace aimc::cpu
