#include "chip/host_interface.h"

#include <algorithm>
#include <cstring>

#include "aimc_regs.h"
#include "sim/accounting.h"

namespace aimc::chip {

namespace {
constexpr uint32_t kDmaChunk = 4096;  // bytes per DMA beat

uint32_t caps_grid(const config::PlatformConfig& c) {
  return (static_cast<uint32_t>(c.grid_rows) << AIMC_CAPS_GRID_ROWS_SHIFT) |
         (static_cast<uint32_t>(c.grid_cols) << AIMC_CAPS_GRID_COLS_SHIFT) |
         (static_cast<uint32_t>(c.tile_count()) << AIMC_CAPS_GRID_TILES_SHIFT);
}
uint32_t caps_array(const config::PlatformConfig& c) {
  return (static_cast<uint32_t>(c.tile.array.rows) << AIMC_CAPS_ARRAY_ROWS_SHIFT) |
         (static_cast<uint32_t>(c.tile.array.cols) << AIMC_CAPS_ARRAY_COLS_SHIFT);
}
uint32_t caps_bits(const config::PlatformConfig& c) {
  return (static_cast<uint32_t>(c.tile.dac.bits) << AIMC_CAPS_BITS_DAC_SHIFT) |
         (static_cast<uint32_t>(c.tile.adc.bits) << AIMC_CAPS_BITS_ADC_SHIFT) |
         (static_cast<uint32_t>(c.tile.device.bits_per_cell) << AIMC_CAPS_BITS_CELL_SHIFT);
}
}  // namespace

HostInterface::HostInterface(sc_core::sc_module_name name, const config::PlatformConfig& cfg,
                             sim::EnergyLedger& ledger, sim::TraceSink& trace,
                             NvmProgrammer& programmer, Sequencer& sequencer,
                             std::vector<Tile*> tiles)
    : sc_module(name),
      regs("regs"),
      dma_bus("dma_bus"),
      dma_host("dma_host"),
      cfg_(cfg),
      ledger_(ledger),
      trace_(trace),
      programmer_(programmer),
      sequencer_(sequencer),
      tiles_(std::move(tiles)),
      track_(trace.track("host")),
      c_host_(ledger.component("host")),
      dma_buf_(kDmaChunk) {
  const size_t n = std::size(regs::kRegisters);
  values_.resize(n);
  uint32_t max_off = 0;
  for (const auto& r : regs::kRegisters) max_off = std::max(max_off, r.offset);
  by_word_.assign(max_off / 4 + 1, -1);
  for (size_t i = 0; i < n; ++i) {
    const auto& r = regs::kRegisters[i];
    by_word_[r.offset / 4] = static_cast<int>(i);
    values_[i] = r.reset == regs::kFromConfig ? 0u : r.reset;
  }
  reg("CAPS_GRID") = caps_grid(cfg);
  reg("CAPS_ARRAY") = caps_array(cfg);
  reg("CAPS_BITS") = caps_bits(cfg);
  reg("CAPS_SRAM_BYTES") = static_cast<uint32_t>(cfg.sram.size_kib) * 1024u;
  regs.register_b_transport(this, &HostInterface::b_transport);
  regs.register_transport_dbg(this, &HostInterface::transport_dbg);
  programmer_.set_listener(this);
  sequencer_.set_listener(this);
  SC_HAS_PROCESS(HostInterface);
  SC_THREAD(dma_thread);
}

uint32_t& HostInterface::reg(const char* name) {
  for (size_t i = 0; i < values_.size(); ++i)
    if (std::strcmp(regs::kRegisters[i].name, name) == 0) return values_[i];
  SC_REPORT_FATAL("aimc/host", (std::string("no register named ") + name).c_str());  // model bug
  return values_[0];
}

uint32_t HostInterface::reg(const char* name) const {
  return const_cast<HostInterface*>(this)->reg(name);
}

uint32_t HostInterface::peek(const char* name) const {
  for (size_t i = 0; i < values_.size(); ++i)
    if (std::strcmp(regs::kRegisters[i].name, name) == 0)
      return read_reg(static_cast<int>(i), sc_core::SC_ZERO_TIME);
  return 0;
}

int HostInterface::index_of(uint64_t offset) const {
  if (offset % 4 != 0 || offset / 4 >= by_word_.size()) return -1;
  return by_word_[offset / 4];
}

void HostInterface::record_error(uint32_t code, uint32_t addr) {
  if (reg("ERROR_CODE") == AIMC_ERR_NONE) {  // the first error is kept until cleared
    reg("ERROR_CODE") = code;
    reg("ERROR_ADDR") = addr;
  }
  raise(AIMC_IRQ_ERROR);
}

void HostInterface::raise(uint32_t bits) {
  reg("IRQ_STATUS") |= bits;
  update_irq();
}

void HostInterface::update_irq() {
  const bool level = (reg("IRQ_STATUS") & reg("IRQ_ENABLE")) != 0;
  if (level && !irq_level_) irq_event_.notify(sc_core::SC_ZERO_TIME);
  irq_level_ = level;
}

uint32_t HostInterface::read_reg(int idx, const sc_core::sc_time& delay) const {
  const auto& r = regs::kRegisters[idx];
  const std::string name = r.name;
  if (r.access == regs::Access::wo) return 0;
  if (name == "STATUS") {
    uint32_t s = 0;
    if (dma_busy_) s |= AIMC_STATUS_DMA_BUSY_MASK;
    if (programmer_.busy()) s |= AIMC_STATUS_PROG_BUSY_MASK;
    if (sequencer_.busy()) s |= AIMC_STATUS_SEQ_BUSY_MASK;
    if (reg("ERROR_CODE") != AIMC_ERR_NONE) s |= AIMC_STATUS_ERROR_MASK;
    return s;
  }
  if (name == "PERF_TIME_NS_LO" || name == "PERF_TIME_NS_HI") {
    const uint64_t ns = sim::to_ps(sc_core::sc_time_stamp() + delay) / 1000u;
    return name == "PERF_TIME_NS_LO" ? static_cast<uint32_t>(ns) : static_cast<uint32_t>(ns >> 32);
  }
  if (name == "PERF_MVMS") {
    uint64_t n = 0;
    for (const Tile* t : tiles_) n += t->mvm_count();
    return static_cast<uint32_t>(std::min<uint64_t>(n, 0xFFFFFFFFu));
  }
  if (name == "PERF_ENERGY_NJ") {
    const double nj = (ledger_.total_j() - ledger_.static_j()) * 1e9;
    return nj >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<uint32_t>(nj);
  }
  if (name == "SEQ_LATENCY_NS")
    return static_cast<uint32_t>(std::min<uint64_t>(sequencer_.last_latency_ps() / 1000u,
                                                    0xFFFFFFFFu));
  if (name == "PROG_CELLS") return programmer_.last_cells();
  return values_[idx];
}

void HostInterface::write_reg(int idx, uint32_t value, const sc_core::sc_time& delay) {
  const auto& r = regs::kRegisters[idx];
  const std::string name = r.name;
  if (r.access == regs::Access::ro) {
    record_error(AIMC_ERR_RO_WRITE, r.offset);
    return;
  }
  if (r.access == regs::Access::w1c) {
    values_[idx] &= ~value;
    if (name == "IRQ_STATUS") update_irq();
    if (name == "ERROR_CODE" && values_[idx] != AIMC_ERR_NONE) values_[idx] = AIMC_ERR_NONE;
    if (name == "ERROR_CODE") reg("ERROR_ADDR") = 0;
    return;
  }
  if (name == "CTRL") {
    if (value & AIMC_CTRL_SOFT_RESET_MASK) {
      if (dma_busy_ || programmer_.busy() || sequencer_.busy()) {
        record_error(AIMC_ERR_BUSY, r.offset);
        return;
      }
      reg("DMA_STATUS") = reg("PROG_STATUS") = reg("SEQ_STATUS") = AIMC_STATE_IDLE;
      reg("IRQ_STATUS") = 0;
      reg("ERROR_CODE") = AIMC_ERR_NONE;
      reg("ERROR_ADDR") = 0;
      update_irq();
    }
    values_[idx] = 0;  // self-clearing
    return;
  }
  if (name == "DMA_START") {
    if (!(value & 1u)) return;
    if (dma_busy_) {
      record_error(AIMC_ERR_BUSY, r.offset);
      return;
    }
    dma_busy_ = true;
    reg("DMA_STATUS") = AIMC_STATE_BUSY;
    dma_start_.notify(delay);
    return;
  }
  if (name == "PROG_CMD") {
    if (value != AIMC_PROG_PROGRAM) return;  // (other commands: next increment)
    if (reg("PROG_TILE") >= tiles_.size()) {
      reg("PROG_STATUS") = AIMC_STATE_ERROR;
      record_error(AIMC_ERR_BAD_TILE, reg("PROG_TILE"));
      return;
    }
    if (!programmer_.start(reg("PROG_TILE"), delay)) {
      record_error(AIMC_ERR_BUSY, r.offset);
      return;
    }
    reg("PROG_STATUS") = AIMC_STATE_BUSY;
    return;
  }
  if (name == "SEQ_START") {
    if (!(value & 1u)) return;
    if (!sequencer_.start(reg("SEQ_PROG_ADDR"), reg("SEQ_BATCH"), delay)) {
      record_error(AIMC_ERR_BUSY, r.offset);
      return;
    }
    reg("SEQ_STATUS") = AIMC_STATE_BUSY;
    return;
  }
  values_[idx] = value;
  if (name == "IRQ_ENABLE") update_irq();
}

void HostInterface::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const uint64_t addr = gp.get_address();
  const unsigned len = gp.get_data_length();
  delay += sc_core::sc_time(cfg_.host.reg_access_ns, sc_core::SC_NS);
  ++accesses_;
  ledger_.post(c_host_, sim::EnergyLedger::kNoLayer, ledger_.phase(),
               cfg_.host.e_reg_access_pj * 1e-12);
  if (gp.get_byte_enable_ptr()) {
    gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    record_error(AIMC_ERR_ACCESS, static_cast<uint32_t>(addr));
    return;
  }
  if (gp.get_streaming_width() < len) {
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    record_error(AIMC_ERR_ACCESS, static_cast<uint32_t>(addr));
    return;
  }
  if (addr >= AIMC_REGS_SIZE) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    record_error(AIMC_ERR_UNMAPPED, static_cast<uint32_t>(addr));
    return;
  }
  if (len != 4 || addr % 4 != 0) {
    gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    record_error(AIMC_ERR_ACCESS, static_cast<uint32_t>(addr));
    return;
  }
  const int idx = index_of(addr);
  if (idx < 0) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    record_error(AIMC_ERR_UNMAPPED, static_cast<uint32_t>(addr));
    return;
  }
  uint32_t value = 0;
  if (gp.is_read()) {
    value = read_reg(idx, delay);
    std::memcpy(gp.get_data_ptr(), &value, 4);
  } else if (gp.is_write()) {
    std::memcpy(&value, gp.get_data_ptr(), 4);
    write_reg(idx, value, delay);
  }
  if (trace_registers_ && trace_.enabled()) {
    trace_.instant(track_, std::string(gp.is_read() ? "rd " : "wr ") + regs::kRegisters[idx].name,
                   sim::to_ps(sc_core::sc_time_stamp() + delay), {{"value", value}});
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned int HostInterface::transport_dbg(tlm::tlm_generic_payload& gp) {
  const int idx = index_of(gp.get_address());
  if (idx < 0 || gp.get_data_length() != 4) return 0;
  uint32_t value = 0;
  if (gp.is_read()) {  // debug reads bypass permissions and have no side effects
    value = values_[idx];
    if (regs::kRegisters[idx].access != regs::Access::wo) value = read_reg(idx, sc_core::SC_ZERO_TIME);
    std::memcpy(gp.get_data_ptr(), &value, 4);
  } else {
    std::memcpy(&value, gp.get_data_ptr(), 4);
    values_[idx] = value;
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  return 4;
}

void HostInterface::engine_done(Engine engine, uint32_t error, uint32_t error_addr) {
  const char* status = engine == Engine::dma ? "DMA_STATUS"
                       : engine == Engine::prog ? "PROG_STATUS" : "SEQ_STATUS";
  reg(status) = error == AIMC_ERR_NONE ? AIMC_STATE_DONE : AIMC_STATE_ERROR;
  if (error != AIMC_ERR_NONE) {
    record_error(error, error_addr);
    return;
  }
  raise(engine == Engine::dma ? AIMC_IRQ_DMA_DONE
        : engine == Engine::prog ? AIMC_IRQ_PROG_DONE : AIMC_IRQ_INFER_DONE);
}

bool HostInterface::dma_check(tlm_utils::simple_initiator_socket<HostInterface>& sock,
                              uint32_t addr, uint32_t len) {
  // A debug read of the whole range tells whether every byte is backed by memory, without time,
  // energy or side effects; nothing moves unless both ends are valid.
  std::vector<uint8_t> probe(len);
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(addr);
  gp.set_data_ptr(probe.data());
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  return sock->transport_dbg(gp) == len;
}

void HostInterface::dma_thread() {
  tlm::tlm_generic_payload gp;
  auto* acct = new sim::Accounting();
  gp.set_extension(acct);  // owned by gp
  for (;;) {
    sc_core::wait(dma_start_);
    const uint32_t host_addr = reg("DMA_HOST_ADDR");
    const uint32_t dev_addr = reg("DMA_DEV_ADDR");
    const uint32_t len = reg("DMA_LEN");
    const bool to_host = (reg("DMA_CTRL") & AIMC_DMA_CTRL_DIR_MASK) != 0;
    const uint64_t t0 = sim::to_ps(sc_core::sc_time_stamp());
    if (len == 0 || !dma_check(dma_host, host_addr, len)) {
      dma_busy_ = false;
      engine_done(Engine::dma, AIMC_ERR_DMA_FAULT, host_addr);
      continue;
    }
    if (!dma_check(dma_bus, dev_addr, len)) {
      dma_busy_ = false;
      engine_done(Engine::dma, AIMC_ERR_DMA_FAULT, dev_addr);
      continue;
    }
    *acct = sim::Accounting(sim::EnergyLedger::kNoLayer, ledger_.phase(), track_);
    auto& src = to_host ? dma_bus : dma_host;
    auto& dst = to_host ? dma_host : dma_bus;
    const uint32_t src_base = to_host ? dev_addr : host_addr;
    const uint32_t dst_base = to_host ? host_addr : dev_addr;
    // Beats are read and written in a pipeline: the source side may read beat k+1 while the
    // destination side writes beat k.
    uint64_t read_at = t0 + sim::ns_to_ps(cfg_.host.dma_setup_ns), write_free = read_at;
    uint32_t error = AIMC_ERR_NONE, error_addr = 0;
    for (uint32_t done = 0; done < len && error == AIMC_ERR_NONE;) {
      const uint32_t n = std::min(kDmaChunk, len - done);
      for (int leg = 0; leg < 2; ++leg) {
        auto& sock = leg == 0 ? src : dst;
        const uint32_t a = (leg == 0 ? src_base : dst_base) + done;
        gp.set_command(leg == 0 ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND);
        gp.set_address(a);
        gp.set_data_ptr(dma_buf_.data());
        gp.set_data_length(n);
        gp.set_streaming_width(n);
        gp.set_byte_enable_ptr(nullptr);
        gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        const uint64_t at = leg == 0 ? read_at : std::max(read_at, write_free);
        sc_core::sc_time delay = sim::ps_to_time(at - t0);
        sock->b_transport(gp, delay);
        if (!gp.is_response_ok()) {
          error = AIMC_ERR_DMA_FAULT;
          error_addr = a;
          break;
        }
        const uint64_t end = t0 + sim::to_ps(delay);
        if (leg == 0) read_at = end;
        else write_free = end;
      }
      done += n;
    }
    const uint64_t t_end = std::max(read_at, write_free);
    if (trace_.enabled())
      trace_.span(track_, to_host ? "dma chip->host" : "dma host->chip", t0, t_end - t0,
                  {{"bytes", len}, {"dev_addr", dev_addr},
                   {"host_link_energy_pj", len * cfg_.host.e_dma_byte_pj}});
    sc_core::wait(sim::ps_to_time(t_end - t0));
    dma_busy_ = false;
    engine_done(Engine::dma, error, error_addr);
  }
}

}  // namespace aimc::chip
