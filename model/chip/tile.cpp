#include "chip/tile.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "numerics/tile_numerics.h"
#include "sim/accounting.h"

namespace aimc::chip {

namespace {
num::DeviceSpec device_spec(const config::DeviceConfig& d) {
  num::DeviceSpec s;
  s.ideal = d.type == config::DeviceType::ideal;
  s.bits_per_cell = d.bits_per_cell;
  s.g_min_ns = d.g_min_ns;
  s.g_max_ns = d.g_max_ns;
  s.prog_error_rel = d.prog_error_rel;
  s.read_noise_rel = d.read_noise_rel;
  return s;
}
uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
}  // namespace

Tile::Tile(sc_core::sc_module_name name, int index, const config::TileConfig& cfg,
           sim::EnergyLedger& ledger, sim::TraceSink& trace, const num::RngStreams& rng)
    : sc_module(name),
      tsock("tsock"),
      index_(index),
      cfg_(cfg),
      ledger_(ledger),
      trace_(trace),
      track_(trace.track("tile" + std::to_string(index))),
      c_dac_(ledger.component("dac")),
      c_array_(ledger.component("array")),
      c_adc_(ledger.component("adc")),
      xbar_(cfg.array.rows, cfg.array.cols, device_spec(cfg.device)),
      prog_rng_(rng.stream("prog/tile" + std::to_string(index))),
      read_rng_(rng.stream("read/tile" + std::to_string(index))),
      local_(static_cast<size_t>(cfg.input_buffer_bytes) +
                 static_cast<size_t>(std::max(cfg.output_buffer_bytes, 4 * cfg.array.cols))) {
  tsock.register_b_transport(this, &Tile::b_transport);
  tsock.register_transport_dbg(this, &Tile::transport_dbg);
  trims_.assign(static_cast<size_t>(cfg.array.cols), 0);
  test_result_.assign(static_cast<size_t>(cfg.array.cols), 0);
  if (cfg.adc.offset_sigma_lsb > 0.0) {
    // Static per-column offsets, drawn once from their own stream.
    num::Rng off_rng = rng.stream("adc_offset/tile" + std::to_string(index));
    adc_offset_.resize(cfg.array.cols);
    for (int c = 0; c < cfg.array.cols; ++c)
      adc_offset_[c] = static_cast<float>(off_rng.normal() * cfg.adc.offset_sigma_lsb);
  }
}

void Tile::erase() {
  std::vector<int16_t> zeros(static_cast<size_t>(cfg_.array.rows) * cfg_.array.cols, 0);
  xbar_.program_levels(zeros.data(), cfg_.array.rows, cfg_.array.cols, nullptr);  // no error
  programmed_ = false;
}

double Tile::conductance_s(int row, int col, bool negative) const {
  const Eigen::MatrixXf& g = negative ? xbar_.g_neg() : xbar_.g_pos();
  return static_cast<double>(g(row, col)) * cfg_.device.g_max_ns * 1e-9;
}

void Tile::set_trim(int col, int32_t lsb) {
  trims_[static_cast<size_t>(col)] = lsb;
  any_trim_ = std::any_of(trims_.begin(), trims_.end(), [](int32_t t) { return t != 0; });
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
  ledger_.post(c_dac_, sim::EnergyLedger::kNoLayer, phase, e_dac_j(cfg_.array.rows),
               static_cast<uint64_t>(cfg_.array.rows));
  ledger_.post(c_adc_, sim::EnergyLedger::kNoLayer, phase, e_adc_j(cols), static_cast<uint64_t>(cols));
  ++mvm_count_;
  return t_mvm_ps(cols);
}

void Tile::program(const int16_t* levels, int rows, int cols) {
  xbar_.program_levels(levels, rows, cols, &prog_rng_);
  programmed_ = true;
}

int Tile::adc_count() const {
  return static_cast<int>(ceil_div(static_cast<uint64_t>(cfg_.array.cols),
                                   static_cast<uint64_t>(cfg_.adc.share)));
}

uint64_t Tile::t_mvm_ps(int cols_used) const {
  const uint64_t rounds = ceil_div(static_cast<uint64_t>(cols_used), adc_count());
  return sim::ns_to_ps(cfg_.dac.t_conv_ns) + sim::ns_to_ps(cfg_.array.t_read_ns) +
         rounds * sim::ns_to_ps(cfg_.adc.t_conv_ns);
}

uint64_t Tile::t_digital_ps(long element_ops) const {
  const uint64_t cycles = ceil_div(static_cast<uint64_t>(element_ops),
                                   static_cast<uint64_t>(cfg_.digital.lanes));
  return static_cast<uint64_t>(std::llround(cycles * 1e6 / cfg_.digital.clock_mhz));
}

double Tile::e_dac_j(int rows_used) const { return rows_used * cfg_.dac.e_conv_pj * 1e-12; }
double Tile::e_adc_j(int cols_used) const { return cols_used * cfg_.adc.e_conv_pj * 1e-12; }
double Tile::e_digital_j(long element_ops) const {
  return static_cast<double>(element_ops) * cfg_.digital.e_op_pj * 1e-12;
}
double Tile::e_array_j(double sum_v2g) const {
  return sum_v2g * cfg_.array.v_read_v * cfg_.array.v_read_v * (cfg_.device.g_max_ns * 1e-9) *
         (cfg_.array.t_read_ns * 1e-9);
}

Eigen::MatrixXf Tile::mvm(const Eigen::MatrixXf& codes, int rows_used, int cols_used,
                          float adc_full_scale, int layer, sim::Phase phase) {
  num::DacSpec dac{cfg_.dac.bits};
  num::AdcSpec adc{cfg_.adc.bits, adc_full_scale, adc_offset_.size() ? &adc_offset_ : nullptr};
  num::TileMvmResult r = num::tile_mvm(xbar_, codes, rows_used, cols_used, dac, adc, &read_rng_);
  if (any_trim_) {  // the digital unit's first step: subtract each column's trim
    for (int c = 0; c < cols_used; ++c)
      if (trims_[static_cast<size_t>(c)] != 0)
        r.adc_codes.col(c).array() -= static_cast<float>(trims_[static_cast<size_t>(c)]);
  }
  if (r.adc_clipped > 0) clipped_flag_ = true;
  const long n = static_cast<long>(codes.rows());
  ledger_.post(c_dac_, layer, phase, n * e_dac_j(rows_used), static_cast<uint64_t>(n) * rows_used);
  ledger_.post(c_array_, layer, phase, e_array_j(r.stats.sum_v2g), static_cast<uint64_t>(n));
  ledger_.post(c_adc_, layer, phase, n * e_adc_j(cols_used), static_cast<uint64_t>(n) * cols_used);
  mvm_count_ += static_cast<uint64_t>(n);
  adc_clipped_ += static_cast<uint64_t>(r.adc_clipped);
  return std::move(r.adc_codes);
}

void Tile::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  local_.access(gp);
}

unsigned int Tile::transport_dbg(tlm::tlm_generic_payload& gp) { return local_.debug(gp); }

}  // namespace aimc::chip
