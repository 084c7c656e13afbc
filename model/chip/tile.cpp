#include "chip/tile.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>

#include "numerics/device_model.h"
#include "numerics/ir_drop.h"
#include "numerics/tile_numerics.h"
#include "sim/accounting.h"

namespace aimc::chip {

num::DevicePhysics device_physics(const config::DeviceConfig& d) {
  num::DevicePhysics p;
  p.kind = d.type;  // one enum: config::DeviceType is num::DeviceKind
  p.cell.ideal = num::device_model(d.type).traits().pulse == num::PulseLaw::exact;
  p.cell.pair = d.pair == config::PairMode::balanced ? num::PairMode::balanced : num::PairMode::unipolar;
  p.cell.bits_per_cell = d.bits_per_cell;
  p.cell.g_min_ns = d.g_min_ns;
  p.cell.g_max_ns = d.g_max_ns;
  p.cell.prog_error_rel = 0.0;  // programming error comes from program-and-verify
  p.cell.read_noise_rel = d.read_noise_rel;
  p.t_ref_c = d.t_ref_c;
  p.g_erased_ns = d.g_erased_ns;
  p.pulse_gain = d.pulse_gain;
  p.pulse_noise = d.pulse_noise;
  p.slope_factor = d.flash.slope_factor;
  p.g_ref_ns = d.flash.g_ref_ns;
  p.retention_mv_per_decade = d.flash.retention_mv_per_decade;
  p.retention_ea_ev = d.flash.retention_ea_ev;
  p.drift_t0_s = d.drift.t0_s;
  p.nu_at_gmax = d.drift.nu_at_gmax;
  p.nu_at_gmin = d.drift.nu_at_gmin;
  p.nu_sigma_at_gmax = d.drift.nu_sigma_at_gmax;
  p.nu_sigma_at_gmin = d.drift.nu_sigma_at_gmin;
  p.ea_at_gmax_ev = d.thermal.ea_at_gmax_ev;
  p.ea_at_gmin_ev = d.thermal.ea_at_gmin_ev;
  p.endurance_cycles = d.endurance_cycles;
  p.worn = d.worn == config::WornMode::stuck_high ? num::WornMode::stuck_high : num::WornMode::stuck_low;
  return p;
}

Tile::Tile(sc_core::sc_module_name name, int index, const config::PlatformConfig& platform,
           sim::EnergyLedger& ledger, sim::TraceSink& trace, const num::RngStreams& rng)
    : sc_module(name),
      tsock("tsock"),
      index_(index),
      cfg_(platform.tile),
      verify_bits_(platform.programming.verify_bits),
      ledger_(ledger),
      track_(trace.track("tile" + std::to_string(index))),
      dac_(make_input_driver(platform)),
      array_(make_array_read(platform)),
      adc_(make_adc_bank(platform)),
      digital_unit_(make_digital_unit(platform)),
      c_dac_(ledger.component(dac_->component())),
      c_array_(ledger.component(array_->component())),
      c_adc_(ledger.component(adc_->component())),
      c_digital_(ledger.component(digital_unit_->component())),
      phys_(device_physics(platform.tile.device)),
      cells_(platform.tile.array.rows, platform.tile.array.cols, phys_),
      xbar_(platform.tile.array.rows, platform.tile.array.cols, phys_.cell),
      temp_c_(platform.tile.device.t_ref_c),
      prog_rng_(rng.stream("prog/tile" + std::to_string(index))),
      read_rng_(rng.stream("read/tile" + std::to_string(index))),
      local_(static_cast<size_t>(cfg_.input_buffer_bytes) +
                 static_cast<size_t>(std::max(cfg_.output_buffer_bytes, 4 * cfg_.array.cols))) {
  tsock.register_b_transport(this, &Tile::b_transport);
  tsock.register_transport_dbg(this, &Tile::transport_dbg);
  if (cfg_.local_memory_kib > 0) {
    // The SRAM law for a memory of the local size (banks no larger than the memory).
    config::SramConfig m = platform.sram;
    m.size_kib = cfg_.local_memory_kib;
    m.bank_kib = std::min(m.bank_kib, m.size_kib);
    local_cost_ = sim::sram_cost(m);
    local_latency_ps_ = sim::ns_to_ps(platform.sram.latency_ns);
  }
  const int cols = cfg_.array.cols;
  trims_.assign(static_cast<size_t>(cols), 0);
  test_result_.assign(static_cast<size_t>(cols), 0);
  const config::FaultConfig& f = platform.faults;
  if (cfg_.adc.offset_sigma_lsb > 0.0 || f.adc_offset_rate > 0.0) {
    // Static per-column offsets, drawn once from their own stream: the spread of a real
    // comparator, then the offset faults (a fixed size, random sign) at their rate.
    num::Rng off_rng = rng.stream("adc_offset/tile" + std::to_string(index));
    adc_offset_ = Eigen::VectorXf::Zero(cols);
    if (cfg_.adc.offset_sigma_lsb > 0.0)
      for (int c = 0; c < cols; ++c)
        adc_offset_[c] = static_cast<float>(off_rng.normal() * cfg_.adc.offset_sigma_lsb);
    if (f.adc_offset_rate > 0.0) {
      num::Rng fault_rng = rng.stream("adc_offset_faults/tile" + std::to_string(index));
      for (int c = 0; c < cols; ++c) {
        const bool hit = fault_rng.uniform() < f.adc_offset_rate;
        const double sign = fault_rng.uniform() < 0.5 ? -1.0 : 1.0;
        if (hit) adc_offset_[c] += static_cast<float>(sign * f.adc_offset_lsb);
      }
    }
  }
  if (f.stuck_low_rate > 0 || f.stuck_high_rate > 0 || f.dead_column_rate > 0) {
    num::Rng fault_rng = rng.stream("faults/tile" + std::to_string(index));
    num::inject_faults(cells_, {f.stuck_low_rate, f.stuck_high_rate, f.dead_column_rate}, fault_rng);
  }
  refresh();
}

double Tile::age_s() const {
  const uint64_t now = sim::to_ps(sc_core::sc_time_stamp());
  return extra_age_s_ + (now > programmed_at_ps_ ? (now - programmed_at_ps_) * 1e-12 : 0.0);
}

void Tile::refresh() {
  stale_ = true;
  stale_age_s_ = age_s();
  stale_temp_c_ = temp_c_;
}

const num::Crossbar& Tile::xbar() const {
  if (stale_) {
    Eigen::MatrixXf gp, gn;
    num::effective_conductances(cells_, phys_, stale_age_s_, stale_temp_c_, gp, gn);
    if (cfg_.array.ir_drop) {
      // The parallel read loses to the lines (numerics/ir_drop.h); a cell read alone (verify,
      // READ_CELL) does not: conductance_s() keeps the cells' own values.
      cell_g_pos_ = gp;
      cell_g_neg_ = gn;
      const double r_seg = cfg_.array.r_wire_ohm_per_um * cfg_.array.cell_pitch_um;
      num::apply_ir_drop(gp, gn, rows_used_, cols_used_, {r_seg, r_seg, cfg_.device.g_max_ns * 1e-9});
    }
    xbar_.load_conductances(gp, gn, rows_used_, cols_used_);
    stale_ = false;
  }
  return xbar_;
}

void Tile::set_conditions(double temp_c, double elapsed_s) {
  temp_c_ = temp_c;
  extra_age_s_ += std::max(0.0, elapsed_s);
  refresh();
}

void Tile::restore(const num::CellState& cells, bool programmed, int rows_used, int cols_used,
                   double age_s) {
  if (cells.rows != cfg_.array.rows || cells.cols != cfg_.array.cols)
    throw std::invalid_argument("tile" + std::to_string(index_) + ": restored state is " +
                                std::to_string(cells.rows) + " x " + std::to_string(cells.cols) +
                                ", the array is " + std::to_string(cfg_.array.rows) + " x " +
                                std::to_string(cfg_.array.cols));
  cells_ = cells;
  programmed_ = programmed;
  rows_used_ = programmed ? rows_used : 0;
  cols_used_ = programmed ? cols_used : 0;
  programmed_at_ps_ = sim::to_ps(sc_core::sc_time_stamp());
  extra_age_s_ = age_s;
  refresh();
}

long Tile::erase_rows(int row0, int row1) {
  const long n = num::erase_rows(cells_, phys_, row0, row1);
  programmed_ = false;
  rows_used_ = cols_used_ = 0;
  refresh();
  return n;
}

num::ProgramResult Tile::program_verify(const int16_t* levels, int rows, int cols,
                                        num::ProgramParams params) {
  params.temp_c = temp_c_;
  num::ProgramResult r;
  if (program_store_ == nullptr) {
    r = num::program_verify(cells_, phys_, levels, rows, cols, params, prog_rng_);
  } else {
    num::MemoOutcome how = num::MemoOutcome::bypassed;
    r = num::program_verify_memo(cells_, phys_, levels, rows, cols, params, prog_rng_, *program_store_, &how);
    switch (how) {
      case num::MemoOutcome::hit: ++memo_counts_.hits; break;
      case num::MemoOutcome::miss: ++memo_counts_.misses; break;
      case num::MemoOutcome::unstored: ++memo_counts_.unstored; break;
      case num::MemoOutcome::bypassed: ++memo_counts_.bypassed; break;
    }
  }
  programmed_ = true;
  rows_used_ = rows;
  cols_used_ = cols;
  programmed_at_ps_ = sim::to_ps(sc_core::sc_time_stamp());
  extra_age_s_ = 0;
  last_unconverged_ = static_cast<uint32_t>(std::min<long>(r.unconverged, 0xFFFFFFFFL));
  refresh();
  return r;
}

double Tile::conductance_s(int row, int col, bool negative) const {
  const num::Crossbar& x = xbar();
  const Eigen::MatrixXf& g = cfg_.array.ir_drop ? (negative ? cell_g_neg_ : cell_g_pos_)
                                                : (negative ? x.g_neg() : x.g_pos());
  return static_cast<double>(g(row, col)) * cfg_.device.g_max_ns * 1e-9;
}

uint64_t Tile::calibration_read(sim::Phase phase) {
  const int rows = rows_used_, cols = cols_used_;
  double sum_na = 0.0;
  num::MvmStats stats;
  if (rows > 0 && cols > 0) {
    Eigen::MatrixXf v = Eigen::MatrixXf::Ones(1, rows);
    Eigen::MatrixXf i;
    xbar_mut().mvm(v, rows, cols, i, &read_rng_, &stats);
    // Column full scale: every used row at g_max on one side (normalized: rows_used).
    const double lsb = static_cast<double>(rows) / std::ldexp(1.0, verify_bits_);
    const double unit_na = cfg_.array.v_read_v * cfg_.device.g_max_ns;  // normalized 1 -> nA
    for (int c = 0; c < cols; ++c) {
      const double mag = std::min(std::fabs(static_cast<double>(i(0, c))), static_cast<double>(rows));
      sum_na += std::round(mag / lsb) * lsb * unit_na;
    }
  }
  cal_na_ = static_cast<uint32_t>(std::min(std::llround(sum_na), 4294967295LL));
  return post_full_scale_read(phase, std::max(rows, 1), std::max(cols, 1), stats);
}

// A read with every driven row at full scale is one pass of any encoding (one 1-bit pass, one
// full-window pulse, one top-code voltage) and one differential read (whatever read_phases).
uint64_t Tile::post_full_scale_read(sim::Phase phase, int driven, int read, num::MvmStats stats) {
  stats.vectors = 1;
  ledger_.post(c_dac_, sim::EnergyLedger::kNoLayer, phase, e_dac_read_j(driven), static_cast<uint64_t>(driven));
  ledger_.post(c_array_, sim::EnergyLedger::kNoLayer, phase, e_array_j(stats, driven, read), 1);
  ledger_.post(c_adc_, sim::EnergyLedger::kNoLayer, phase, e_adc_read_j(read), static_cast<uint64_t>(read));
  ++mvm_count_;
  return mvm_pass_time_ps(*dac_, *array_, *adc_, read);
}

void Tile::set_trim(int col, int32_t lsb) {
  trims_[static_cast<size_t>(col)] = lsb;
  any_trim_ = std::any_of(trims_.begin(), trims_.end(), [](int32_t t) { return t != 0; });
}

void Tile::reset_registers() {
  gain_q16_ = 65536;
  cal_ref_ = cal_na_ = 0;
  std::fill(trims_.begin(), trims_.end(), 0);
  std::fill(test_result_.begin(), test_result_.end(), 0);
  any_trim_ = false;
  clipped_flag_ = false;
}

void Tile::inject_stuck_cell(int row, int col, bool negative, bool high) {
  if (row < 0 || row >= cfg_.array.rows)
    throw std::invalid_argument("row " + std::to_string(row) + " is outside the array (0.." +
                                std::to_string(cfg_.array.rows - 1) + ")");
  if (col < 0 || col >= cfg_.array.cols)
    throw std::invalid_argument("column " + std::to_string(col) + " is outside the array (0.." +
                                std::to_string(cfg_.array.cols - 1) + ")");
  uint8_t& f = (negative ? cells_.fault_neg : cells_.fault_pos)(row, col);
  f = static_cast<uint8_t>((f & ~(num::kStuckLow | num::kStuckHigh)) | (high ? num::kStuckHigh : num::kStuckLow));
  refresh();
}

void Tile::inject_dead_column(int col) {
  if (col < 0 || col >= cfg_.array.cols)
    throw std::invalid_argument("column " + std::to_string(col) + " is outside the array (0.." +
                                std::to_string(cfg_.array.cols - 1) + ")");
  cells_.dead_col[static_cast<size_t>(col)] = 1;
  refresh();
}

void Tile::inject_adc_offset(int col, double lsb) {
  if (col < 0 || col >= cfg_.array.cols)
    throw std::invalid_argument("column " + std::to_string(col) + " is outside the array (0.." +
                                std::to_string(cfg_.array.cols - 1) + ")");
  if (!std::isfinite(lsb)) throw std::invalid_argument("the ADC offset must be a finite number of LSB");
  if (adc_offset_.size() == 0) adc_offset_ = Eigen::VectorXf::Zero(cfg_.array.cols);
  adc_offset_[col] += static_cast<float>(lsb);
}

float Tile::adc_offset_lsb(int col) const {
  return adc_offset_.size() ? adc_offset_[col] : 0.0f;
}

uint64_t Tile::zero_input_test(sim::Phase phase) {
  const int cols = cfg_.array.cols;
  const int a = (1 << (cfg_.adc.bits - 1)) - 1;
  for (int c = 0; c < cols; ++c) {
    // Zero input: no cell current, no read noise; what the ADC reports is its own offset.
    const float x = std::clamp(adc_offset_lsb(c), static_cast<float>(-a), static_cast<float>(a));
    test_result_[static_cast<size_t>(c)] = static_cast<int32_t>(std::round(x));
  }
  return post_full_scale_read(phase, cfg_.array.rows, cols, num::MvmStats{});
}

std::vector<Tile::BlockFigure> Tile::block_figures() const {
  std::vector<BlockFigure> b = {
      BlockFigure{dac_->component(), dac_->area_um2(), dac_->p_static_w()},
      BlockFigure{array_->component(), array_->area_um2(), array_->p_static_w()},
      BlockFigure{adc_->component(), adc_->area_um2(), adc_->p_static_w()},
      BlockFigure{digital_unit_->component(), digital_unit_->area_um2(), digital_unit_->p_static_w()}};
  if (cfg_.local_memory_kib > 0) b.push_back(BlockFigure{"local_mem", local_cost_.area_um2, local_cost_.p_static_w});
  return b;
}

uint64_t Tile::t_local_memory_ps(uint64_t bytes) const {
  const uint64_t width = static_cast<uint64_t>(cfg_.local_memory_width_bytes);
  const double cycle_ps = 1e6 / cfg_.digital.clock_mhz;
  return local_latency_ps_ + static_cast<uint64_t>(std::llround(static_cast<double>((bytes + width - 1) / width) * cycle_ps));
}

void set_block_static_power(sim::EnergyLedger& ledger, const std::vector<Tile*>& tiles, bool active,
                            uint64_t t_ps) {
  std::map<std::string, double> watts;  // by component, in the blocks' order of first appearance
  std::vector<std::string> order;
  for (const Tile* t : tiles)
    for (const Tile::BlockFigure& b : t->block_figures()) {
      if (!watts.count(b.component)) order.push_back(b.component);
      watts[b.component] += active ? b.p_static_w : 0.0;
    }
  for (const std::string& name : order) {
    const double w = watts[name];
    const int comp = ledger.component(name);
    if (w == 0.0 && ledger.static_power_w(comp) == 0.0) continue;
    ledger.set_static_power(comp, w, std::max(t_ps, ledger.now_ps()));
  }
}

uint64_t Tile::t_mvm_ps(int cols_used) const { return mvm_time_ps(*dac_, *array_, *adc_, cols_used); }

Tile::MvmResult Tile::mvm(const Eigen::MatrixXf& codes, int rows_used, int cols_used,
                          float adc_full_scale, int layer, sim::Phase phase, int row0, int col0) {
  num::DacSpec dac{cfg_.dac.bits};
  // The block's columns sit on ADC columns col0.. (their offsets).
  Eigen::VectorXf offsets;
  const Eigen::VectorXf* off = nullptr;
  if (adc_offset_.size()) {
    if (col0 == 0) {
      off = &adc_offset_;
    } else {
      offsets = adc_offset_.segment(std::min<Eigen::Index>(col0, adc_offset_.size()),
                                    std::max<Eigen::Index>(0, adc_offset_.size() - col0));
      off = &offsets;
    }
  }
  num::AdcSpec adc{cfg_.adc.bits, adc_full_scale, off};
  const InputEncoding enc = dac_->encoding();
  const num::InputCoding coding =
      enc.mode == InputEncoding::Mode::bit_serial ? num::InputCoding::bit_serial : num::InputCoding::one_shot;
  num::TileMvmResult r = num::tile_mvm(xbar(), codes, rows_used, cols_used, dac, adc, &read_rng_, row0, col0,
                                       num::TileRead{coding, read_phases()});
  if (any_trim_) {  // the digital unit's first step: subtract each column's trim
    for (int c = 0; c < cols_used; ++c)
      if (trims_[static_cast<size_t>(col0 + c)] != 0)
        r.adc_codes.col(c).array() -= static_cast<float>(trims_[static_cast<size_t>(col0 + c)]);
  }
  if (gain_q16_ != 65536u)  // then the drift-compensation gain
    r.adc_codes *= static_cast<float>(gain_q16_ / 65536.0);
  if (r.adc_clipped > 0) clipped_flag_ = true;
  const long n = static_cast<long>(codes.rows());
  MvmResult out;
  out.e_dac_j = n * e_dac_j(rows_used);
  out.e_array_j = e_array_j(r.stats, rows_used, cols_used);
  out.e_adc_j = n * e_adc_j(cols_used);
  const uint64_t reads = static_cast<uint64_t>(reads_per_vector());
  ledger_.post(c_dac_, layer, phase, out.e_dac_j,
               static_cast<uint64_t>(n) * rows_used * static_cast<uint64_t>(driven_reads_per_vector()));
  ledger_.post(c_array_, layer, phase, out.e_array_j, static_cast<uint64_t>(n) * reads);
  ledger_.post(c_adc_, layer, phase, out.e_adc_j, static_cast<uint64_t>(n) * cols_used * reads);
  if (reads > 1) {  // the shift-and-add of the passes' codes, or the phases' subtraction
    const long adds = n * cols_used * static_cast<long>(reads);
    out.e_shift_add_j = e_digital_j(adds, DigitalWork::accumulate);
    ledger_.post(c_digital_, layer, phase, out.e_shift_add_j, static_cast<uint64_t>(adds));
  }
  mvm_count_ += static_cast<uint64_t>(n);
  adc_clipped_ += static_cast<uint64_t>(r.adc_clipped);
  out.codes = std::move(r.adc_codes);
  return out;
}

void Tile::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const uint64_t addr = gp.get_address();
  if (addr >= local_.size() && local_memory_bytes() > 0) {
    // The local activation memory: timed copies of maps arrive here; their values are the SRAM's.
    const uint64_t at = addr - local_.size();
    const bool inside = at <= local_memory_bytes() && gp.get_data_length() <= local_memory_bytes() - at;
    gp.set_response_status(gp.get_byte_enable_ptr()                          ? tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE
                           : gp.get_streaming_width() < gp.get_data_length() ? tlm::TLM_BURST_ERROR_RESPONSE
                           : inside                                          ? tlm::TLM_OK_RESPONSE
                                                                             : tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  local_.access(gp);
}

unsigned int Tile::transport_dbg(tlm::tlm_generic_payload& gp) { return local_.debug(gp); }

}  // namespace aimc::chip
