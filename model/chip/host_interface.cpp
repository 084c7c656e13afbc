#include "chip/host_interface.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "aimc_regs.h"
#include "chip/host_register_layout.h"
#include "numerics/device_model.h"
#include "sim/accounting.h"

namespace aimc::chip {

using regs::Reg;

namespace {
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
uint32_t caps_device(const config::PlatformConfig& c) {
  const auto& d = c.tile.device;
  const uint32_t type = num::device_kind_code(d.type);  // AIMC_DEVICE_<NAME>
  const uint32_t sector = num::device_model(d.type).traits().erase_high
                              ? static_cast<uint32_t>(c.programming.erase_sector_rows)
                              : 0u;
  return (type << AIMC_CAPS_DEVICE_TYPE_SHIFT) |
         ((d.pair == config::PairMode::balanced ? 1u : 0u) << AIMC_CAPS_DEVICE_BALANCED_SHIFT) |
         (std::min(sector, 0xFFFFu) << AIMC_CAPS_DEVICE_ERASE_ROWS_SHIFT);
}

HostRegisters::Layout layout(const config::PlatformConfig& cfg) {
  return host_register_layout(static_cast<unsigned>(cfg.tile_count()),
                              static_cast<unsigned>(cfg.tile.array.cols));
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
      irq("irq"),
      irq_sources("irq_source", kIrqSources),
      cfg_(cfg),
      ledger_(ledger),
      trace_(trace),
      tiles_(std::move(tiles)),
      track_(trace.track("host")),
      c_host_(ledger.component("host")),
      bank_(layout(cfg)),
      ctx_{cfg_, ledger, trace, track_, bank_, *this, programmer, sequencer, tiles_},
      power_(ctx_),
      perf_(ctx_),
      dma_(ctx_, *this, dma_bus, dma_host),
      prog_(ctx_),
      seq_(ctx_),
      cq_(ctx_, dma_, seq_),
      windows_(ctx_) {
  bank_.set_error_handler([this](uint32_t code, uint32_t addr) { record_error(code, addr); });
  attach_registers();
  bank_.capture_reset_values();  // every unit has set its registers' values from the config
  temp_mc_ = static_cast<int32_t>(std::lround(cfg.tile.device.t_ref_c * 1000.0));
  regs.register_b_transport(this, &HostInterface::b_transport);
  regs.register_transport_dbg(this, &HostInterface::transport_dbg);
  programmer.set_listener(this);
  sequencer.set_listener(this);
  SC_HAS_PROCESS(HostInterface);
  SC_THREAD(dma_thread);
  SC_THREAD(cq_thread);
  SC_METHOD(drive_irq_outputs);
  sensitive << irq_lines_event_;
  dont_initialize();
  if (trace_.enabled()) {  // initial values of the waveform signals (traces/README.md)
    trace_.signal(track_, "irq", 0, irq_level_);
    trace_.signal(track_, "power_state", 0, power_.state(), 2);
  }
}

void HostInterface::attach_registers() {
  // ID and VERSION keep their table reset values; SCRATCH is plain storage.
  bank_.set(Reg::CAPS_GRID, caps_grid(cfg_));
  bank_.set(Reg::CAPS_ARRAY, caps_array(cfg_));
  bank_.set(Reg::CAPS_BITS, caps_bits(cfg_));
  bank_.set(Reg::CAPS_SRAM_BYTES, static_cast<uint32_t>(cfg_.sram.size_kib) * 1024u);
  bank_.set(Reg::CAPS_CLOCK_MHZ, static_cast<uint32_t>(std::lround(cfg_.tile.digital.clock_mhz)));
  bank_.set(Reg::CAPS_DEVICE, caps_device(cfg_));
  bank_.on_write(Reg::CTRL, [this](uint32_t v, RegAccess& a) { soft_reset(v, a); });
  bank_.on_read(Reg::STATUS, [this](const RegAccess&) { return status(); });
  bank_.after_write(Reg::ERROR_CODE, [this](uint32_t v, RegAccess&) {
    if (v == 0) return;  // "write any 1 bits to clear": the whole code and its address
    bank_.set(Reg::ERROR_CODE, AIMC_ERR_NONE);
    bank_.set(Reg::ERROR_ADDR, 0);
  });
  bank_.after_write(Reg::IRQ_STATUS, [this](uint32_t, RegAccess&) { update_irq(); });
  bank_.after_write(Reg::IRQ_ENABLE, [this](uint32_t, RegAccess&) { update_irq(); });
  bank_.on_read(Reg::TEMP_MC, [this](const RegAccess&) { return static_cast<uint32_t>(temp_mc_); });
  bank_.after_write(Reg::TEMP_ALARM_MC, [this](uint32_t, RegAccess&) { check_temperature_alarm(); });
}

// ---- Global registers, interrupts and errors -------------------------------------------------

uint32_t HostInterface::peek(const char* name) const {
  return bank_.peek(name, sim::to_ps(sc_core::sc_time_stamp())).value_or(0u);
}

void HostInterface::record_error(uint32_t code, uint32_t addr) {
  if (bank_.get(Reg::ERROR_CODE) == AIMC_ERR_NONE) {  // the first error is kept until cleared
    bank_.set(Reg::ERROR_CODE, code);
    bank_.set(Reg::ERROR_ADDR, addr);
  }
  raise(AIMC_IRQ_ERROR);
}

void HostInterface::raise(uint32_t bits) {
  bank_[Reg::IRQ_STATUS] |= bits;
  update_irq();
}

void HostInterface::drive_irq_outputs() {
  irq.write(irq_lines_ != 0);
  for (int n = 0; n < kIrqSources; ++n) irq_sources[n].write(((irq_lines_ >> n) & 1u) != 0);
}

void HostInterface::update_irq() {
  const uint32_t lines = bank_.get(Reg::IRQ_STATUS) & bank_.get(Reg::IRQ_ENABLE);
  if (lines != irq_lines_) irq_lines_event_.notify(sc_core::SC_ZERO_TIME);
  irq_lines_ = lines;
  const bool level = lines != 0;
  if (level && !irq_level_) irq_event_.notify(sc_core::SC_ZERO_TIME);
  if (level != irq_level_ && trace_.enabled())
    trace_.signal(track_, "irq", sim::to_ps(sc_core::sc_time_stamp()), level);
  irq_level_ = level;
}

bool HostInterface::any_busy() const {
  return dma_.busy() || ctx_.programmer.busy() || ctx_.sequencer.busy() || cq_.busy();
}

uint32_t HostInterface::status() const {
  uint32_t s = 0;
  if (dma_.busy()) s |= AIMC_STATUS_DMA_BUSY_MASK;
  if (ctx_.programmer.busy()) s |= AIMC_STATUS_PROG_BUSY_MASK;
  if (ctx_.sequencer.busy()) s |= AIMC_STATUS_SEQ_BUSY_MASK;
  if (cq_.busy()) s |= AIMC_STATUS_CQ_BUSY_MASK;
  if (bank_.get(Reg::ERROR_CODE) != AIMC_ERR_NONE) s |= AIMC_STATUS_ERROR_MASK;
  return s;
}

void HostInterface::soft_reset(uint32_t value, RegAccess& a) {
  // CTRL is self-clearing: nothing is stored.
  if (!(value & (AIMC_CTRL_SOFT_RESET_MASK | AIMC_CTRL_FULL_RESET_MASK))) return;
  if (any_busy()) return a.refuse(AIMC_ERR_BUSY);
  if (value & AIMC_CTRL_FULL_RESET_MASK) {
    full_reset(a.now_ps);
    return;
  }
  dma_.set_state(AIMC_STATE_IDLE);
  prog_.set_state(AIMC_STATE_IDLE);
  seq_.set_state(AIMC_STATE_IDLE);
  cq_.reset();
  power_.reset(a.now_ps);  // the tiles powered, as every driver expects after a reset
  bank_.set(Reg::IRQ_STATUS, 0);
  bank_.set(Reg::ERROR_CODE, AIMC_ERR_NONE);
  bank_.set(Reg::ERROR_ADDR, 0);
  update_irq();
}

bool HostInterface::full_reset(uint64_t now_ps) {
  if (any_busy()) return false;
  bank_.restore_reset_values();  // engine states IDLE, errors and interrupts clear, setups as at power-on
  cq_.reset();
  power_.reset(now_ps);
  perf_.restart(now_ps);
  ctx_.programmer.clear_results();  // PROG_CELLS, PROG_READ_PS, PROG_PULSES, ... read the last command's
  ctx_.sequencer.clear_latency();   // SEQ_LATENCY_NS
  for (Tile* t : tiles_) t->reset_registers();
  temp_alarm_armed_ = true;
  check_temperature_alarm();  // against TEMP_ALARM_MC's reset value
  update_irq();
  return true;
}

void HostInterface::set_temperature(double temp_c) {
  temp_mc_ = static_cast<int32_t>(std::lround(temp_c * 1000.0));
  check_temperature_alarm();
}

void HostInterface::check_temperature_alarm() {
  const bool above = temp_mc_ > static_cast<int32_t>(bank_.get(Reg::TEMP_ALARM_MC));
  if (above && !temp_alarm_armed_) return;  // already reported this excursion
  if (above) {
    temp_alarm_armed_ = false;
    raise(AIMC_IRQ_TEMP_ALARM);
  } else {
    temp_alarm_armed_ = true;
  }
}

void HostInterface::engine_done(Engine engine, uint32_t error, uint32_t error_addr) {
  if (engine == Engine::seq) seq_.check_adc_clips();
  if (engine == Engine::prog) prog_.check_yield(error);
  // A queue entry's inference: the queue reports it, not the sequencer's registers.
  if (engine == Engine::seq && cq_.take_inference(error, error_addr)) return;
  const uint32_t state = error == AIMC_ERR_NONE ? AIMC_STATE_DONE : AIMC_STATE_ERROR;
  if (engine == Engine::dma) dma_.set_state(state);
  else if (engine == Engine::prog) prog_.set_state(state);
  else seq_.set_state(state);
  if (error != AIMC_ERR_NONE) {
    record_error(error, error_addr);
    return;
  }
  raise(engine == Engine::dma ? AIMC_IRQ_DMA_DONE
        : engine == Engine::prog ? AIMC_IRQ_PROG_DONE : AIMC_IRQ_INFER_DONE);
}

// ---- Bus side --------------------------------------------------------------------------------

void HostInterface::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  delay += sc_core::sc_time(cfg_.host.reg_access_ns, sc_core::SC_NS);
  ++accesses_;
  ledger_.post(c_host_, sim::EnergyLedger::kNoLayer, ledger_.phase(),
               cfg_.host.e_reg_access_pj * 1e-12);
  using Request = HostRegisters::Request;
  using Response = HostRegisters::Response;
  Request req;
  req.kind = gp.is_read() ? Request::Kind::read
             : gp.is_write() ? Request::Kind::write : Request::Kind::ignore;
  req.address = gp.get_address();
  req.length = gp.get_data_length();
  req.streaming_width = gp.get_streaming_width();
  req.byte_enables = gp.get_byte_enable_ptr() != nullptr;
  if (gp.is_write() && req.length == 4) std::memcpy(&req.data, gp.get_data_ptr(), 4);
  RegAccess a;
  a.now_ps = sim::to_ps(sc_core::sc_time_stamp() + delay);
  a.delay_ps = sim::to_ps(delay);
  const Response response = bank_.access(req, a);
  if (a.took_ps > 0) delay += sim::ps_to_time(a.took_ps);
  switch (response) {
    case Response::ok: break;
    case Response::address_error: return gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    case Response::command_error: return gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    case Response::byte_enable_error:
      return gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    case Response::burst_error: return gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
  }
  if (gp.is_read()) std::memcpy(gp.get_data_ptr(), &req.data, 4);
  if (trace_registers_ && trace_.enabled()) {
    trace_.instant(track_, std::string(gp.is_read() ? "rd " : "wr ") + bank_.name_at(req.address),
                   sim::to_ps(sc_core::sc_time_stamp() + delay), {{"value", req.data}});
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned int HostInterface::transport_dbg(tlm::tlm_generic_payload& gp) {
  // Debug reads see global registers without side effects; debug writes are not supported.
  if (!gp.is_read()) return 0;
  const auto value = bank_.debug_read(gp.get_address(), gp.get_data_length(),
                                      sim::to_ps(sc_core::sc_time_stamp()));
  if (!value) return 0;
  std::memcpy(gp.get_data_ptr(), &*value, 4);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  return 4;
}

}  // namespace aimc::chip
