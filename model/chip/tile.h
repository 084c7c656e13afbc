// A compute tile: input buffer -> DAC bank -> NVM crossbar -> ADC bank -> digital unit.
// What comes out is computed by the numerics kernel (model/numerics); this module decides when
// (the array's and the digital unit's calendars) and at what energy (posted to the ledger).
//
// Timing of one MVM (one input vector through the tile), all from the platform config:
//   t_mvm = dac.t_conv_ns + array.t_read_ns + ceil(cols_used / n_adc) * adc.t_conv_ns
//   n_adc = ceil(array.cols / adc.share); columns are interleaved over the ADCs.
// Digital unit, for `outputs` elements each combining `inputs` partial sums:
//   t_digital = ceil(outputs * inputs / digital.lanes) / digital.clock_mhz
// Energy of one MVM:
//   dac     = rows_used * dac.e_conv_pj                      (every used word line is driven)
//   array   = sum_i v_i^2 * sum_j (G+_ij + G-_ij) * t_read    (V^2 G t of every cell read)
//   adc     = cols_used * adc.e_conv_pj
//   digital = outputs * inputs * digital.e_op_pj             (posted by the sequencer)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "sim/timeline.h"
#include "chip/local_memory.h"
#include "config/platform_config.h"
#include "numerics/crossbar.h"
#include "numerics/rng.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

namespace aimc::chip {

class Tile : public sc_core::sc_module {
 public:
  // Local memory window on the bus: the input buffer at offset 0, then the output buffer (at least
  // 4 bytes per column, so a vector of int32 partial sums fits). Partial sums arrive here.
  tlm_utils::simple_target_socket<Tile> tsock;

  Tile(sc_core::sc_module_name name, int index, const config::TileConfig& cfg,
       sim::EnergyLedger& ledger, sim::TraceSink& trace, const num::RngStreams& rng);
  Tile(const Tile&) = delete;
  Tile& operator=(const Tile&) = delete;

  int index() const { return index_; }
  const config::TileConfig& config() const { return cfg_; }
  int track() const { return track_; }

  // Writes target levels into the array (the programming controller's job; it accounts the cost).
  // Throws std::invalid_argument for levels out of range or a block larger than the array.
  void program(const int16_t* levels, int rows, int cols);
  bool programmed() const { return programmed_; }
  // Sets every cell to the lowest conductance G(0) exactly; the tile then holds no weights.
  void erase();
  // A cell's conductance in siemens (negative: the pair's negative cell).
  double conductance_s(int row, int col, bool negative) const;
  int rows_used() const { return xbar_.rows_used(); }
  int cols_used() const { return xbar_.cols_used(); }
  const num::Crossbar& crossbar() const { return xbar_; }

  int adc_count() const;
  uint64_t t_mvm_ps(int cols_used) const;
  uint64_t t_digital_ps(long element_ops) const;
  double e_dac_j(int rows_used) const;
  double e_adc_j(int cols_used) const;
  double e_digital_j(long element_ops) const;
  // Array energy of a batch from the kernel's statistic sum_v2g.
  double e_array_j(double sum_v2g) const;

  // Functional batch MVM: codes (batch x rows_used) -> ADC codes (batch x cols_used). Posts the
  // DAC, array and ADC energy of the whole batch to the ledger under (layer, phase).
  Eigen::MatrixXf mvm(const Eigen::MatrixXf& codes, int rows_used, int cols_used,
                      float adc_full_scale, int layer, sim::Phase phase);

  uint32_t output_buffer_offset() const { return static_cast<uint32_t>(cfg_.input_buffer_bytes); }
  // ---- Calibration and status (the tile's register window) ----
  // Column c's ADC trim in LSB, subtracted from its codes in the digital unit.
  int32_t trim(int col) const { return trims_[static_cast<size_t>(col)]; }
  void set_trim(int col, int32_t lsb);
  // One MVM with every input at zero over all array columns; latches the raw (untrimmed) codes
  // as test_result(c) and posts its DAC and ADC energy. Returns its duration (t_mvm of all cols).
  uint64_t zero_input_test(sim::Phase phase);
  int32_t test_result(int col) const { return test_result_[static_cast<size_t>(col)]; }
  // The static offset drawn for column c (LSB), for tests; firmware cannot read it.
  float adc_offset_lsb(int col) const;
  bool clipped_flag() const { return clipped_flag_; }
  void clear_clipped_flag() { clipped_flag_ = false; }

  sim::Timeline& analog() { return analog_; }
  sim::Timeline& digital() { return digital_; }
  uint64_t mvm_count() const { return mvm_count_; }
  uint64_t adc_clipped() const { return adc_clipped_; }

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);

  int index_;
  config::TileConfig cfg_;
  sim::EnergyLedger& ledger_;
  sim::TraceSink& trace_;
  int track_;
  int c_dac_, c_array_, c_adc_;
  num::Crossbar xbar_;
  num::Rng prog_rng_;
  num::Rng read_rng_;
  bool programmed_ = false;
  LocalMemory local_;  // input buffer + output buffer
  sim::Timeline analog_, digital_;
  uint64_t mvm_count_ = 0;
  uint64_t adc_clipped_ = 0;
  Eigen::VectorXf adc_offset_;       // per column, LSB (empty: no offsets)
  std::vector<int32_t> trims_;       // per column, LSB
  std::vector<int32_t> test_result_; // per column, last zero-input test
  bool any_trim_ = false;
  bool clipped_flag_ = false;
};

}  // namespace aimc::chip
