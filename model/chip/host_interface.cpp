#include "chip/host_interface.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "aimc_regs.h"
#include "numerics/device_model.h"
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
uint32_t sat32(uint64_t v) { return static_cast<uint32_t>(std::min<uint64_t>(v, 0xFFFFFFFFu)); }
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
      c_tile_static_(ledger.component("tile_static")),
      c_dac_(ledger.component("dac")),
      c_adc_(ledger.component("adc")),
      dma_buf_(kDmaChunk),
      cq_buf_(kDmaChunk) {
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
  reg("CAPS_CLOCK_MHZ") = static_cast<uint32_t>(std::lround(cfg.tile.digital.clock_mhz));
  reg("CAPS_DEVICE") = caps_device(cfg);
  reg("PROG_TOL_REL_PPM") = static_cast<uint32_t>(std::lround(cfg.programming.tolerance_rel * 1e6));
  reg("PROG_TOLERANCE_PPM") =
      static_cast<uint32_t>(std::lround(cfg.programming.tolerance_gmax_rel * 1e6));
  reg("PROG_MAX_ITER") = static_cast<uint32_t>(cfg.programming.max_iterations);
  temp_mc_ = static_cast<int32_t>(std::lround(cfg.tile.device.t_ref_c * 1000.0));
  regs.register_b_transport(this, &HostInterface::b_transport);
  regs.register_transport_dbg(this, &HostInterface::transport_dbg);
  programmer_.set_listener(this);
  sequencer_.set_listener(this);
  SC_HAS_PROCESS(HostInterface);
  SC_THREAD(dma_thread);
  SC_THREAD(cq_thread);
  if (trace_.enabled()) {  // initial values of the waveform signals (traces/README.md)
    trace_.signal(track_, "irq", 0, irq_level_);
    trace_.signal(track_, "power_state", 0, power_state_, 2);
  }
}

// ---- Register bank ---------------------------------------------------------------------------

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
  if (level != irq_level_ && trace_.enabled())
    trace_.signal(track_, "irq", sim::to_ps(sc_core::sc_time_stamp()), level);
  irq_level_ = level;
}

bool HostInterface::any_busy() const {
  return dma_busy_ || programmer_.busy() || sequencer_.busy() || cq_busy_;
}

uint64_t HostInterface::mvms_now() const {
  uint64_t n = 0;
  for (const Tile* t : tiles_) n += t->mvm_count();
  return n;
}
uint64_t HostInterface::conversions_now() const {
  return ledger_.event_count(c_dac_) + ledger_.event_count(c_adc_);
}
double HostInterface::dynamic_j_now() const { return ledger_.total_j() - ledger_.static_j(); }

uint32_t HostInterface::read_reg(int idx, const sc_core::sc_time& delay) const {
  const auto& r = regs::kRegisters[idx];
  const std::string name = r.name;
  if (r.access == regs::Access::wo) return 0;
  const uint64_t now_ps = sim::to_ps(sc_core::sc_time_stamp() + delay);
  if (name == "STATUS") {
    uint32_t s = 0;
    if (dma_busy_) s |= AIMC_STATUS_DMA_BUSY_MASK;
    if (programmer_.busy()) s |= AIMC_STATUS_PROG_BUSY_MASK;
    if (sequencer_.busy()) s |= AIMC_STATUS_SEQ_BUSY_MASK;
    if (cq_busy_) s |= AIMC_STATUS_CQ_BUSY_MASK;
    if (reg("ERROR_CODE") != AIMC_ERR_NONE) s |= AIMC_STATUS_ERROR_MASK;
    return s;
  }
  if (name == "PERF_TIME_NS_LO" || name == "PERF_TIME_NS_HI") {
    const uint64_t ns = now_ps / 1000u;
    return name == "PERF_TIME_NS_LO" ? static_cast<uint32_t>(ns) : static_cast<uint32_t>(ns >> 32);
  }
  if (name == "PERF_CYCLES_LO" || name == "PERF_CYCLES_HI") {
    const double cycles = (now_ps - std::min(now_ps, base_time_ps_)) * 1e-6 * cfg_.tile.digital.clock_mhz;
    const uint64_t c = static_cast<uint64_t>(cycles);
    return name == "PERF_CYCLES_LO" ? static_cast<uint32_t>(c) : static_cast<uint32_t>(c >> 32);
  }
  if (name == "PERF_MVMS") return sat32(mvms_now() - base_mvms_);
  if (name == "PERF_CONVERSIONS") return sat32(conversions_now() - base_conversions_);
  if (name == "PERF_BUS_BYTES") return sat32(bus_bytes_ ? bus_bytes_() - base_bus_bytes_ : 0);
  if (name == "PERF_ENERGY_NJ") {
    const double nj = (dynamic_j_now() - base_energy_j_) * 1e9;
    return nj >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<uint32_t>(std::max(0.0, nj));
  }
  if (name == "SEQ_LATENCY_NS") return sat32(sequencer_.last_latency_ps() / 1000u);
  if (name == "PROG_CELLS") return programmer_.last_cells();
  if (name == "PROG_VERIFY_FAILS") return programmer_.verify_fails();
  if (name == "PROG_READ_PS") return programmer_.read_ps();
  if (name == "PROG_PULSES") return programmer_.last_pulses();
  if (name == "PROG_UNCONVERGED") return programmer_.last_unconverged();
  if (name == "PROG_ITER_MAX") return programmer_.last_iter_max();
  if (name == "TEMP_MC") return static_cast<uint32_t>(temp_mc_);
  if (name == "POWER_STATE") return power_state_;
  return values_[idx];
}

void HostInterface::set_power_state(uint32_t state, const sc_core::sc_time& delay) {
  const double uw = state == AIMC_POWER_ACTIVE ? cfg_.tile.p_static_active_uw
                    : state == AIMC_POWER_IDLE ? cfg_.tile.p_static_idle_uw
                                               : 0.0;  // STANDBY: tiles power-gated
  const uint64_t t = std::max(ledger_.now_ps(), sim::to_ps(sc_core::sc_time_stamp() + delay));
  ledger_.set_static_power(c_tile_static_, uw * 1e-6 * cfg_.tile_count(), t);
  power_state_ = state;
  if (trace_.enabled()) trace_.signal(track_, "power_state", t, state, 2);
  if (trace_.enabled())
    trace_.instant(track_,
                   state == AIMC_POWER_ACTIVE ? "power ACTIVE"
                   : state == AIMC_POWER_IDLE ? "power IDLE" : "power STANDBY",
                   t, {{"tile_static_uw", uw * cfg_.tile_count()}});
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
    if (name == "ERROR_CODE" && value != 0) {
      values_[idx] = AIMC_ERR_NONE;
      reg("ERROR_ADDR") = 0;
    }
    return;
  }
  const bool standby = power_state_ == AIMC_POWER_STANDBY;
  if (name == "CTRL") {
    if (value & AIMC_CTRL_SOFT_RESET_MASK) {
      if (any_busy()) {
        record_error(AIMC_ERR_BUSY, r.offset);
        return;
      }
      reg("DMA_STATUS") = reg("PROG_STATUS") = reg("SEQ_STATUS") = reg("CQ_STATUS") = AIMC_STATE_IDLE;
      reg("IRQ_STATUS") = 0;
      reg("ERROR_CODE") = AIMC_ERR_NONE;
      reg("ERROR_ADDR") = 0;
      reg("CQ_HEAD") = reg("CQ_TAIL") = 0;
      update_irq();
    }
    values_[idx] = 0;  // self-clearing
    return;
  }
  if (name == "POWER_STATE") {
    if (value > AIMC_POWER_STANDBY) {
      record_error(AIMC_ERR_BAD_VALUE, r.offset);
    } else if (value != power_state_ && any_busy()) {
      record_error(AIMC_ERR_BUSY, r.offset);
    } else if (value != power_state_) {
      set_power_state(value, delay);
    }
    return;
  }
  if (name == "PERF_CTRL") {
    if (value & AIMC_PERF_CTRL_RESET_MASK) {
      base_time_ps_ = sim::to_ps(sc_core::sc_time_stamp() + delay);
      base_mvms_ = mvms_now();
      base_conversions_ = conversions_now();
      base_bus_bytes_ = bus_bytes_ ? bus_bytes_() : 0;
      base_energy_j_ = dynamic_j_now();
    }
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
    if (standby) {
      record_error(AIMC_ERR_POWER_STATE, r.offset);
      return;
    }
    if (value < AIMC_PROG_PROGRAM || value > AIMC_PROG_ERASE) {
      record_error(AIMC_ERR_BAD_VALUE, r.offset);
      return;
    }
    if (reg("PROG_TILE") >= tiles_.size()) {
      reg("PROG_STATUS") = AIMC_STATE_ERROR;
      record_error(AIMC_ERR_BAD_TILE, reg("PROG_TILE"));
      return;
    }
    NvmProgrammer::Command cmd;
    cmd.op = value;
    cmd.tile = reg("PROG_TILE");
    cmd.row = reg("PROG_ROW");
    cmd.col = reg("PROG_COL");
    cmd.side = reg("PROG_SIDE");
    cmd.tol_gmax_ppm = reg("PROG_TOLERANCE_PPM");
    cmd.tol_rel_ppm = reg("PROG_TOL_REL_PPM");
    cmd.max_iterations = reg("PROG_MAX_ITER");
    if (sequencer_.busy() || cq_busy_ || !programmer_.start(cmd, delay)) {
      record_error(AIMC_ERR_BUSY, r.offset);
      return;
    }
    reg("PROG_STATUS") = AIMC_STATE_BUSY;
    last_prog_op_ = value;
    return;
  }
  if (name == "PROG_MAX_ITER" && (value == 0 || value > 65535)) {
    record_error(AIMC_ERR_BAD_VALUE, r.offset);
    return;
  }
  if (name == "SEQ_START") {
    if (!(value & 1u)) return;
    if (standby) {
      record_error(AIMC_ERR_POWER_STATE, r.offset);
      return;
    }
    if (cq_busy_ || programmer_.busy() ||
        !sequencer_.start(reg("SEQ_PROG_ADDR"), reg("SEQ_BATCH"), delay)) {
      record_error(AIMC_ERR_BUSY, r.offset);
      return;
    }
    clips_at_start_ = adc_clips_now();
    reg("SEQ_STATUS") = AIMC_STATE_BUSY;
    return;
  }
  if (name == "CQ_BASE" || name == "CQ_ENTRIES") {
    if (cq_busy_) {
      record_error(AIMC_ERR_BUSY, r.offset);
      return;
    }
    values_[idx] = value;
    reg("CQ_HEAD") = reg("CQ_TAIL") = 0;  // a new ring starts empty
    reg("CQ_STATUS") = AIMC_STATE_IDLE;
    return;
  }
  if (name == "CQ_TAIL") {
    if (reg("CQ_ENTRIES") == 0 || value >= reg("CQ_ENTRIES") || (reg("CQ_BASE") & 3u) != 0) {
      record_error(AIMC_ERR_BAD_COMMAND, r.offset);
      return;
    }
    if (standby) {
      record_error(AIMC_ERR_POWER_STATE, r.offset);
      return;
    }
    values_[idx] = value;
    cq_kick_.notify(delay);
    return;
  }
  values_[idx] = value;
  if (name == "IRQ_ENABLE") update_irq();
  if (name == "TEMP_ALARM_MC") check_temperature_alarm();
}

uint64_t HostInterface::adc_clips_now() const {
  uint64_t n = 0;
  for (const Tile* t : tiles_) n += t->adc_clipped();
  return n;
}

void HostInterface::set_temperature(double temp_c) {
  temp_mc_ = static_cast<int32_t>(std::lround(temp_c * 1000.0));
  check_temperature_alarm();
}

void HostInterface::check_temperature_alarm() {
  const bool above = temp_mc_ > static_cast<int32_t>(reg("TEMP_ALARM_MC"));
  if (above && !temp_alarm_armed_) return;  // already reported this excursion
  if (above) {
    temp_alarm_armed_ = false;
    raise(AIMC_IRQ_TEMP_ALARM);
  } else {
    temp_alarm_armed_ = true;
  }
}

bool HostInterface::tile_access(uint64_t offset, bool is_read, uint32_t& value,
                                sc_core::sc_time& delay, std::string& name) {
  if (offset < AIMC_TILE_REGS_BASE) return false;
  const uint64_t rel = offset - AIMC_TILE_REGS_BASE;
  const uint64_t t = rel / AIMC_TILE_REGS_STRIDE;
  const uint32_t local = static_cast<uint32_t>(rel % AIMC_TILE_REGS_STRIDE);
  if (t >= tiles_.size()) return false;
  Tile& tile = *tiles_[t];
  const uint32_t cols = static_cast<uint32_t>(cfg_.tile.array.cols);
  const regs::TileRegister* reg_desc = nullptr;
  uint32_t col = 0;
  for (const auto& tr : regs::kTileRegisters) {
    if (tr.per_column ? (local >= tr.offset && local < tr.offset + 4 * cols)
                      : local == tr.offset) {
      reg_desc = &tr;
      col = tr.per_column ? (local - tr.offset) / 4 : 0;
      break;
    }
  }
  if (!reg_desc) return false;
  name = "tile" + std::to_string(t) + "." + reg_desc->name;
  if (reg_desc->per_column) name += "[" + std::to_string(col) + "]";
  const std::string r = reg_desc->name;
  if (is_read) {
    if (reg_desc->access == regs::Access::wo) value = 0;
    else if (r == "STATUS")
      value = (tile.programmed() ? AIMC_TILE_STATUS_PROGRAMMED_MASK : 0u) |
              (tile.clipped_flag() ? AIMC_TILE_STATUS_CLIPPED_MASK : 0u);
    else if (r == "FLAGS") value = tile.clipped_flag() ? AIMC_TILE_FLAGS_CLIPPED_MASK : 0u;
    else if (r == "ROWS_USED") value = tile.programmed() ? static_cast<uint32_t>(tile.rows_used()) : 0u;
    else if (r == "COLS_USED") value = tile.programmed() ? static_cast<uint32_t>(tile.cols_used()) : 0u;
    else if (r == "MVMS") value = sat32(tile.mvm_count());
    else if (r == "ADC_CLIPS") value = sat32(tile.adc_clipped());
    else if (r == "TRIM") value = static_cast<uint32_t>(tile.trim(static_cast<int>(col)));
    else if (r == "RESULT") value = static_cast<uint32_t>(tile.test_result(static_cast<int>(col)));
    else if (r == "CYCLES_MAX") value = tile.cells().max_cycles();
    else if (r == "WORN_CELLS") value = sat32(static_cast<uint64_t>(tile.cells().worn_cells()));
    else if (r == "UNCONVERGED") value = tile.last_unconverged();
    else if (r == "CAL_NA") value = tile.cal_na();
    else if (r == "CAL_REF") value = tile.cal_ref();
    else if (r == "GAIN") value = tile.gain_q16();
    return true;
  }
  if (reg_desc->access == regs::Access::ro) {
    record_error(AIMC_ERR_RO_WRITE, static_cast<uint32_t>(offset));
  } else if (r == "FLAGS") {
    if (value & AIMC_TILE_FLAGS_CLIPPED_MASK) tile.clear_clipped_flag();
  } else if (r == "TRIM") {
    const int32_t v = static_cast<int32_t>(value);
    const int32_t limit = 1 << cfg_.tile.adc.bits;
    if (v > limit || v < -limit) record_error(AIMC_ERR_BAD_VALUE, static_cast<uint32_t>(offset));
    else tile.set_trim(static_cast<int>(col), v);
  } else if (r == "CAL_REF") {
    tile.set_cal_ref(value);
  } else if (r == "GAIN") {
    tile.set_gain_q16(value);
  } else if (r == "CAL" && (value & 1u)) {
    if (power_state_ == AIMC_POWER_STANDBY) record_error(AIMC_ERR_POWER_STATE, static_cast<uint32_t>(offset));
    else if (sequencer_.busy() || cq_busy_ || programmer_.busy())
      record_error(AIMC_ERR_BUSY, static_cast<uint32_t>(offset));
    else if (!tile.programmed()) record_error(AIMC_ERR_NOT_PROGRAMMED, static_cast<uint32_t>(offset));
    else delay += sim::ps_to_time(tile.calibration_read(ledger_.phase()));
  } else if (r == "TEST" && (value & 1u)) {
    if (power_state_ == AIMC_POWER_STANDBY) record_error(AIMC_ERR_POWER_STATE, static_cast<uint32_t>(offset));
    else if (sequencer_.busy() || cq_busy_) record_error(AIMC_ERR_BUSY, static_cast<uint32_t>(offset));
    else delay += sim::ps_to_time(tile.zero_input_test(ledger_.phase()));
  }
  return true;
}

void HostInterface::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const uint64_t addr = gp.get_address();
  const unsigned len = gp.get_data_length();
  delay += sc_core::sc_time(cfg_.host.reg_access_ns, sc_core::SC_NS);
  ++accesses_;
  ledger_.post(c_host_, sim::EnergyLedger::kNoLayer, ledger_.phase(),
               cfg_.host.e_reg_access_pj * 1e-12);
  auto refuse = [&](tlm::tlm_response_status status, uint32_t code) {
    gp.set_response_status(status);
    record_error(code, static_cast<uint32_t>(addr));
  };
  if (gp.get_byte_enable_ptr()) return refuse(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE, AIMC_ERR_ACCESS);
  if (gp.get_streaming_width() < len) return refuse(tlm::TLM_BURST_ERROR_RESPONSE, AIMC_ERR_ACCESS);
  if (addr >= AIMC_REGS_SIZE) return refuse(tlm::TLM_ADDRESS_ERROR_RESPONSE, AIMC_ERR_UNMAPPED);
  if (len != 4 || addr % 4 != 0) return refuse(tlm::TLM_COMMAND_ERROR_RESPONSE, AIMC_ERR_ACCESS);
  uint32_t value = 0;
  if (gp.is_write()) std::memcpy(&value, gp.get_data_ptr(), 4);
  std::string trace_name;
  const int idx = index_of(addr);
  if (idx >= 0) {
    if (gp.is_read()) value = read_reg(idx, delay);
    else if (gp.is_write()) write_reg(idx, value, delay);
    if (trace_registers_) trace_name = regs::kRegisters[idx].name;
  } else if (!tile_access(addr, gp.is_read(), value, delay, trace_name)) {
    return refuse(tlm::TLM_ADDRESS_ERROR_RESPONSE, AIMC_ERR_UNMAPPED);
  }
  if (gp.is_read()) std::memcpy(gp.get_data_ptr(), &value, 4);
  if (trace_registers_ && trace_.enabled()) {
    trace_.instant(track_, std::string(gp.is_read() ? "rd " : "wr ") + trace_name,
                   sim::to_ps(sc_core::sc_time_stamp() + delay), {{"value", value}});
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned int HostInterface::transport_dbg(tlm::tlm_generic_payload& gp) {
  // Debug reads see global registers without side effects; debug writes are not supported.
  const int idx = index_of(gp.get_address());
  if (idx < 0 || gp.get_data_length() != 4 || !gp.is_read()) return 0;
  const uint32_t value = regs::kRegisters[idx].access == regs::Access::wo
                             ? 0u
                             : read_reg(idx, sc_core::SC_ZERO_TIME);
  std::memcpy(gp.get_data_ptr(), &value, 4);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  return 4;
}

void HostInterface::engine_done(Engine engine, uint32_t error, uint32_t error_addr) {
  if (engine == Engine::seq && adc_clips_now() > clips_at_start_) {
    clips_at_start_ = adc_clips_now();
    raise(AIMC_IRQ_ADC_CLIP);
  }
  if (engine == Engine::prog && error == AIMC_ERR_NONE && last_prog_op_ == AIMC_PROG_PROGRAM &&
      programmer_.last_unconverged() > 0)
    raise(AIMC_IRQ_PROG_YIELD);
  if (engine == Engine::seq && cq_waiting_seq_) {  // a queue entry's inference: the queue reports
    cq_waiting_seq_ = false;
    cq_seq_error_ = error;
    cq_seq_error_addr_ = error_addr;
    cq_seq_done_.notify(sc_core::SC_ZERO_TIME);
    return;
  }
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

// ---- DMA engine ------------------------------------------------------------------------------

bool HostInterface::probe(tlm_utils::simple_initiator_socket<HostInterface>& sock, uint32_t addr,
                          uint64_t len) {
  // A debug read of the range tells whether every byte is backed by memory, without time,
  // energy or side effects: nothing moves unless both ends are valid.
  if (len == 0 || len > 0xFFFFFFFFull) return false;
  std::vector<uint8_t> scratch(static_cast<size_t>(len));
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(addr);
  gp.set_data_ptr(scratch.data());
  gp.set_data_length(static_cast<unsigned>(len));
  gp.set_streaming_width(static_cast<unsigned>(len));
  return sock->transport_dbg(gp) == len;
}

uint32_t HostInterface::check_move(const Move& m, uint32_t& err_addr) {
  err_addr = m.host_addr;
  if (m.row_bytes == 0 || m.rows == 0) return AIMC_ERR_BAD_DESCRIPTOR;
  if (m.rows > 1 && (m.host_stride < m.row_bytes || m.dev_stride < m.row_bytes))
    return AIMC_ERR_BAD_DESCRIPTOR;  // rows would overlap
  const uint64_t host_span = static_cast<uint64_t>(m.rows - 1) * m.host_stride + m.row_bytes;
  const uint64_t dev_span = static_cast<uint64_t>(m.rows - 1) * m.dev_stride + m.row_bytes;
  if (m.host_addr + host_span > 0x100000000ull || m.dev_addr + dev_span > 0x100000000ull)
    return AIMC_ERR_BAD_DESCRIPTOR;  // wraps the 32-bit address space
  for (uint32_t r = 0; r < m.rows; ++r) {
    if (!probe(dma_host, m.host_addr + r * m.host_stride, m.row_bytes)) {
      err_addr = m.host_addr + r * m.host_stride;
      return AIMC_ERR_DMA_FAULT;
    }
    if (!probe(dma_bus, m.dev_addr + r * m.dev_stride, m.row_bytes)) {
      err_addr = m.dev_addr + r * m.dev_stride;
      return AIMC_ERR_DMA_FAULT;
    }
  }
  return AIMC_ERR_NONE;
}

uint32_t HostInterface::do_move(const Move& m, uint64_t& t_ps, uint32_t& err_addr,
                                std::vector<uint8_t>& buf) {
  tlm::tlm_generic_payload gp;
  gp.set_extension(new sim::Accounting(sim::EnergyLedger::kNoLayer, ledger_.phase(), track_));
  auto& src = m.to_host ? dma_bus : dma_host;
  auto& dst = m.to_host ? dma_host : dma_bus;
  const uint64_t now = sim::to_ps(sc_core::sc_time_stamp());
  // Beats are read and written in a pipeline: the source side may read beat k+1 while the
  // destination side writes beat k.
  uint64_t read_at = t_ps, write_free = t_ps;
  for (uint32_t r = 0; r < m.rows; ++r) {
    const uint32_t src_row = (m.to_host ? m.dev_addr : m.host_addr) +
                             r * (m.to_host ? m.dev_stride : m.host_stride);
    const uint32_t dst_row = (m.to_host ? m.host_addr : m.dev_addr) +
                             r * (m.to_host ? m.host_stride : m.dev_stride);
    for (uint32_t done = 0; done < m.row_bytes;) {
      const uint32_t n = std::min<uint32_t>(static_cast<uint32_t>(buf.size()), m.row_bytes - done);
      for (int leg = 0; leg < 2; ++leg) {
        auto& sock = leg == 0 ? src : dst;
        const uint32_t a = (leg == 0 ? src_row : dst_row) + done;
        gp.set_command(leg == 0 ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND);
        gp.set_address(a);
        gp.set_data_ptr(buf.data());
        gp.set_data_length(n);
        gp.set_streaming_width(n);
        gp.set_byte_enable_ptr(nullptr);
        gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        const uint64_t at = leg == 0 ? read_at : std::max(read_at, write_free);
        sc_core::sc_time delay = sim::ps_to_time(at - now);
        sock->b_transport(gp, delay);
        if (!gp.is_response_ok()) {
          err_addr = a;
          t_ps = std::max(read_at, write_free);
          return AIMC_ERR_DMA_FAULT;
        }
        const uint64_t end = now + sim::to_ps(delay);
        if (leg == 0) read_at = end;
        else write_free = end;
      }
      done += n;
    }
  }
  t_ps = std::max(read_at, write_free);
  return AIMC_ERR_NONE;
}

bool HostInterface::host_access(tlm::tlm_command cmd, uint32_t addr, void* data, uint32_t len,
                                uint64_t& t_ps) {
  tlm::tlm_generic_payload gp;
  gp.set_extension(new sim::Accounting(sim::EnergyLedger::kNoLayer, ledger_.phase(), track_));
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(static_cast<unsigned char*>(data));
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  const uint64_t now = sim::to_ps(sc_core::sc_time_stamp());
  sc_core::sc_time delay = sim::ps_to_time(t_ps - now);
  dma_host->b_transport(gp, delay);
  t_ps = now + sim::to_ps(delay);
  return gp.is_response_ok();
}

bool HostInterface::read_desc(uint32_t addr, aimc_dma_desc_t& d) {
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(addr);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&d));
  gp.set_data_length(sizeof d);
  gp.set_streaming_width(sizeof d);
  return dma_host->transport_dbg(gp) == sizeof d;
}

uint32_t HostInterface::run_chain(uint32_t first, uint64_t& t_ps, uint32_t& err_addr,
                                  uint32_t& done) {
  // Check the whole chain first: nothing moves if any descriptor is malformed or out of range.
  std::vector<Move> moves;
  for (uint32_t a = first;;) {
    aimc_dma_desc_t d{};
    err_addr = a;
    if (a % 4 != 0 || moves.size() >= AIMC_DMA_MAX_CHAIN) return AIMC_ERR_BAD_DESCRIPTOR;
    if (!read_desc(a, d)) return AIMC_ERR_DMA_FAULT;
    if (d.flags & ~AIMC_DMA_DESC_DIR_TO_HOST) return AIMC_ERR_BAD_DESCRIPTOR;
    Move m;
    m.to_host = (d.flags & AIMC_DMA_DESC_DIR_TO_HOST) != 0;
    m.host_addr = d.host_addr;
    m.dev_addr = d.dev_addr;
    m.row_bytes = d.row_bytes;
    m.rows = d.rows;
    m.host_stride = d.host_stride;
    m.dev_stride = d.dev_stride;
    uint32_t e = check_move(m, err_addr);
    if (e != AIMC_ERR_NONE) {
      if (e == AIMC_ERR_BAD_DESCRIPTOR) err_addr = a;
      return e;
    }
    moves.push_back(m);
    if (d.next == 0) break;
    a = d.next;
  }
  // Then run it: each descriptor is fetched over the host link and set up, then moved.
  uint32_t a = first;
  for (const Move& m : moves) {
    aimc_dma_desc_t d{};
    if (!host_access(tlm::TLM_READ_COMMAND, a, &d, sizeof d, t_ps)) {
      err_addr = a;
      return AIMC_ERR_DMA_FAULT;
    }
    t_ps += sim::ns_to_ps(cfg_.host.dma_setup_ns);
    const uint32_t e = do_move(m, t_ps, err_addr, dma_buf_);
    if (e != AIMC_ERR_NONE) return e;
    ++done;
    a = d.next;
  }
  return AIMC_ERR_NONE;
}

void HostInterface::dma_thread() {
  for (;;) {
    sc_core::wait(dma_start_);
    const uint64_t t0 = sim::to_ps(sc_core::sc_time_stamp());
    const bool chain = (reg("DMA_CTRL") & AIMC_DMA_CTRL_CHAIN_MASK) != 0;
    uint32_t error = AIMC_ERR_NONE, error_addr = 0, done = 0, bytes = 0;
    uint64_t t = t0;
    if (chain) {
      error = run_chain(reg("DMA_DESC_ADDR"), t, error_addr, done);
    } else {
      Move m;
      m.to_host = (reg("DMA_CTRL") & AIMC_DMA_CTRL_DIR_MASK) != 0;
      m.host_addr = reg("DMA_HOST_ADDR");
      m.dev_addr = reg("DMA_DEV_ADDR");
      m.row_bytes = reg("DMA_LEN");
      bytes = m.row_bytes;
      error = check_move(m, error_addr);
      // A zero length is not a malformed descriptor but a fault: there is nothing to move.
      if (error == AIMC_ERR_BAD_DESCRIPTOR && m.row_bytes == 0) error = AIMC_ERR_DMA_FAULT;
      if (error == AIMC_ERR_NONE) {
        t += sim::ns_to_ps(cfg_.host.dma_setup_ns);
        error = do_move(m, t, error_addr, dma_buf_);
        done = error == AIMC_ERR_NONE ? 1 : 0;
      }
    }
    reg("DMA_DESC_DONE") = done;
    if (trace_.enabled() && t > t0)
      trace_.span(track_, chain ? "dma chain" : (reg("DMA_CTRL") & AIMC_DMA_CTRL_DIR_MASK) ? "dma chip->host" : "dma host->chip",
                  t0, t - t0,
                  {{"bytes", bytes}, {"descriptors", done},
                   {"host_link_energy_pj", bytes * cfg_.host.e_dma_byte_pj}});
    if (t > t0) sc_core::wait(sim::ps_to_time(t - t0));
    dma_busy_ = false;
    engine_done(Engine::dma, error, error_addr);
  }
}

// ---- Command queue ---------------------------------------------------------------------------

uint32_t HostInterface::cq_run_entry(uint32_t index, uint64_t& t, aimc_cmd_t& cmd) {
  const uint32_t entry_addr = reg("CQ_BASE") + index * sizeof(aimc_cmd_t);
  if (!host_access(tlm::TLM_READ_COMMAND, entry_addr, &cmd, sizeof cmd, t))
    return AIMC_ERR_DMA_FAULT;
  aimc_program_hdr_t ph{};
  if (cmd.opcode != AIMC_CMD_INFER || (cmd.flags & ~AIMC_CMD_FLAG_IRQ) != 0)
    return AIMC_ERR_BAD_COMMAND;
  if (!sequencer_.program_header(reg("SEQ_PROG_ADDR"), ph)) return AIMC_ERR_BAD_PROGRAM;
  if (cmd.batch == 0 || cmd.batch > ph.max_batch) return AIMC_ERR_BAD_BATCH;
  uint32_t err_addr = 0;
  Move in;
  in.host_addr = cmd.in_host_addr;
  in.dev_addr = ph.in_addr;
  in.row_bytes = cmd.batch * ph.in_features;
  Move out;
  out.to_host = true;
  out.host_addr = cmd.out_host_addr;
  out.dev_addr = ph.out_addr;
  out.row_bytes = cmd.batch * ph.out_features * 4u;
  if (check_move(in, err_addr) != AIMC_ERR_NONE || check_move(out, err_addr) != AIMC_ERR_NONE)
    return AIMC_ERR_DMA_FAULT;
  uint32_t e = do_move(in, t, err_addr, cq_buf_);
  if (e != AIMC_ERR_NONE) return e;
  // The inference itself: the sequencer reports back to the queue, not to firmware.
  const uint64_t now = sim::to_ps(sc_core::sc_time_stamp());
  cq_waiting_seq_ = true;
  if (!sequencer_.start(reg("SEQ_PROG_ADDR"), cmd.batch, sim::ps_to_time(t - now))) {
    cq_waiting_seq_ = false;
    return AIMC_ERR_BUSY;
  }
  reg("SEQ_STATUS") = AIMC_STATE_BUSY;
  sc_core::wait(cq_seq_done_);
  reg("SEQ_STATUS") = cq_seq_error_ == AIMC_ERR_NONE ? AIMC_STATE_DONE : AIMC_STATE_ERROR;
  if (cq_seq_error_ != AIMC_ERR_NONE) return cq_seq_error_;
  t = sim::to_ps(sc_core::sc_time_stamp());
  cmd.latency_ns = sat32(sequencer_.last_latency_ps() / 1000u);
  return do_move(out, t, err_addr, cq_buf_);
}

void HostInterface::cq_thread() {
  for (;;) {
    sc_core::wait(cq_kick_);
    if (cq_busy_) continue;
    cq_busy_ = true;
    reg("CQ_STATUS") = AIMC_STATE_BUSY;
    uint32_t error = AIMC_ERR_NONE;
    while (reg("CQ_HEAD") != reg("CQ_TAIL")) {
      const uint32_t head = reg("CQ_HEAD");
      const uint64_t t_entry = sim::to_ps(sc_core::sc_time_stamp());
      uint64_t t = t_entry + sim::ns_to_ps(cfg_.host.dma_setup_ns);
      aimc_cmd_t cmd{};
      error = cq_run_entry(head, t, cmd);
      // Write the entry's status (and latency) back to host memory.
      cmd.status = error;
      const uint32_t entry_addr = reg("CQ_BASE") + head * sizeof(aimc_cmd_t);
      host_access(tlm::TLM_WRITE_COMMAND, entry_addr + offsetof(aimc_cmd_t, status), &cmd.status,
                  8, t);
      const uint64_t now = sim::to_ps(sc_core::sc_time_stamp());
      if (t > now) sc_core::wait(sim::ps_to_time(t - now));
      if (trace_.enabled())
        trace_.span(track_, "cq entry", t_entry, sim::to_ps(sc_core::sc_time_stamp()) - t_entry,
                    {{"entry", head}, {"batch", cmd.batch}, {"status", error}});
      if (error != AIMC_ERR_NONE) {
        record_error(error == AIMC_ERR_BAD_PROGRAM || error == AIMC_ERR_BAD_BATCH ||
                             error == AIMC_ERR_DMA_FAULT
                         ? error
                         : AIMC_ERR_BAD_COMMAND,
                     head);
        break;  // the queue stops at the failed entry; firmware inspects it and re-arms
      }
      reg("CQ_HEAD") = (head + 1) % reg("CQ_ENTRIES");
      ++reg("CQ_DONE");
      if (cmd.flags & AIMC_CMD_FLAG_IRQ) raise(AIMC_IRQ_CQ_DONE);
    }
    reg("CQ_STATUS") = error == AIMC_ERR_NONE ? AIMC_STATE_DONE : AIMC_STATE_ERROR;
    cq_busy_ = false;
  }
}

}  // namespace aimc::chip
