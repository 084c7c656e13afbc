// A compute tile: input buffer -> DAC bank -> NVM crossbar -> ADC bank -> digital unit.
// What comes out is computed by the numerics kernel (model/numerics); this module decides when
// (the array's and the digital unit's calendars) and at what energy (posted to the ledger).
//
// Timing of one MVM (one input vector through the tile): each block's time (its kind's law,
// docs/chip-model.md "Block kinds"), one after another (chip::mvm_time_ps), once per pass of the
// input encoding (bit_serial: one per input bit, each with its own read and conversions, shifted
// and added in this tile's digital unit); for the presets (one pass)
//   t_mvm = dac.t_conv_ns + t_array + ceil(cols_used / n_adc) * adc.t_conv_ns
//   t_array = array.t_read_ns + (adc.bits + 1) ln 2 * array.r_line_kohm * C_bl
//   n_adc = ceil(array.cols / adc.share); columns are interleaved over the ADCs.
// Digital unit, for `outputs` elements each combining `inputs` partial sums:
//   t_digital = ceil(outputs * inputs / digital.lanes) / digital.clock_mhz
// Energy of one MVM:
//   dac     = rows_used * dac.e_conv_pj                      (every used word line is driven)
//   array   = sum_i v_i^2 * sum_j (G+_ij + G-_ij) * t_read    (V^2 G t of every cell read)
//             + (2 * cols_used * C_bl + rows_used * C_wl) * v_read^2   (the lines charged)
//   adc     = cols_used * adc.e_conv_pj
//   digital = outputs * inputs * digital.e_op_pj             (posted by the sequencer)
// C_bl = array.rows * cell_pitch_um * c_wire_ff_per_um, C_wl = array.cols * 2 * cell_pitch_um *
// c_wire_ff_per_um.
//
// Cells. The tile keeps the device state of its cells (num::CellState: programmed conductances,
// drift exponents, endurance counters, faults) and the conditions a read happens in: the die
// temperature and the time since the last PROGRAM. Whenever one of them changes, the conductances
// a read sees (num::effective_conductances) at those conditions are what the crossbar the MVMs use
// holds. They are computed when a read first needs them (an erase followed by a PROGRAM computes
// them once, not twice), at the conditions of the change: the result is the same as computing
// them on the spot.
// Simulated time during a run (milliseconds) does not re-age the cells; ages set through the
// environment (aimc run --at) do.
#pragma once

#include <array>
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
#include "sim/sram_cost.h"
#include "chip/tile_blocks.h"
#include "config/platform_config.h"
#include "numerics/crossbar.h"
#include "numerics/device.h"
#include "numerics/program_memo.h"
#include "numerics/rng.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

namespace aimc::chip {

// The numerics device model of a platform's device configuration.
num::DevicePhysics device_physics(const config::DeviceConfig& device);

// A tile's counters and state as the report reads them (Tile::stats()).
struct TileStats {
  int tile = 0;
  bool programmed = false;   // holds weights
  double age_s = 0;          // seconds since the last PROGRAM (environment time plus simulated time)
  uint64_t mvm_count = 0;    // MVMs since elaboration
  uint64_t adc_clipped = 0;  // ADC samples clipped to the code range since elaboration
  uint64_t analog_busy_ps = 0;   // time its array (DAC, array, ADC) was booked since elaboration
  uint64_t digital_busy_ps = 0;  // time its digital unit was booked since elaboration
  uint64_t local_memory_busy_ps = 0;  // time its local activation memory's port was booked
};

class Tile : public sc_core::sc_module {
 public:
  // Local memory window on the bus: the input buffer at offset 0, then the output buffer (at least
  // 4 bytes per column, so a vector of int32 partial sums fits). Partial sums arrive here.
  tlm_utils::simple_target_socket<Tile> tsock;

  // Manufacturing faults (platform.faults) are drawn here from the stream "faults/tile<N>".
  Tile(sc_core::sc_module_name name, int index, const config::PlatformConfig& platform,
       sim::EnergyLedger& ledger, sim::TraceSink& trace, const num::RngStreams& rng);
  Tile(const Tile&) = delete;
  Tile& operator=(const Tile&) = delete;

  int index() const { return index_; }
  const config::TileConfig& config() const { return cfg_; }
  int track() const { return track_; }

  // Program-and-verify of the block to the target levels (the programming controller's job; it
  // turns the result's pulse and verify counts into time and energy). Draws from the tile's
  // "prog/tile<N>" stream; the die temperature is the environment's. Ages the cells from now.
  // Throws std::invalid_argument for levels out of range or a block larger than the array.
  num::ProgramResult program_verify(const int16_t* levels, int rows, int cols,
                                    num::ProgramParams params);
  bool programmed() const { return programmed_; }
  // Program-and-verify through a memo (num::program_verify_memo, aimc run --program-cache): the
  // same results, state and draws, without pulsing again a call that repeats one stored before.
  // Null (the default): every call programs. The store must outlive the tile's use of it.
  void set_program_store(num::ProgramStore* store) { program_store_ = store; }
  struct ProgramMemoCounts {
    long hits = 0, misses = 0, unstored = 0, bypassed = 0;  // calls, by num::MemoOutcome
  };
  const ProgramMemoCounts& program_memo_counts() const { return memo_counts_; }
  // Erases word lines [row0, row1) (flash: to the erased state; pcm/rram: RESET). The tile then
  // holds no weights. Returns the cells erased.
  long erase_rows(int row0, int row1);
  void erase() { erase_rows(0, cfg_.array.rows); }
  // A cell's conductance as a read of that cell alone sees it now, in siemens (negative: the
  // pair's negative cell): drift, temperature and faults, not the IR drop of a parallel read.
  double conductance_s(int row, int col, bool negative) const;
  // The device model and the cells' state.
  const num::DevicePhysics& physics() const { return phys_; }
  const num::CellState& cells() const { return cells_; }
  uint32_t last_unconverged() const { return last_unconverged_; }

  // ---- Faults injected while the platform runs (aimc fw run --gdb's `monitor fault`) ----
  // The kinds platform.faults draws at elaboration, placed by hand: one cell of the pair at
  // (row, col), the negative one or the positive one, stuck at g_min (low) or g_max (high)
  // whatever is programmed, its pulses having no effect; every cell of a weight column reading 0
  // (open bit lines); an offset of `lsb` added to column col's ADC. Each acts from the next read
  // on. Throw std::invalid_argument naming an index out of the array, or an offset that is not finite.
  void inject_stuck_cell(int row, int col, bool negative, bool high);
  void inject_dead_column(int col);
  void inject_adc_offset(int col, double lsb);

  // ---- Conditions (the environment) ----
  double temp_c() const { return temp_c_; }
  // Seconds since the last PROGRAM: time added by the environment plus simulated time.
  double age_s() const;
  // Sets the die temperature and adds `elapsed_s` to the age (time the simulation skips).
  void set_conditions(double temp_c, double elapsed_s);
  // Replaces the cells' state (a checkpoint): the tile holds weights if `programmed`, its block is
  // rows_used x cols_used, and it was programmed `age_s` seconds ago. Throws std::invalid_argument
  // if the state's size differs from the array.
  void restore(const num::CellState& cells, bool programmed, int rows_used, int cols_used,
               double age_s);
  int rows_used() const { return rows_used_; }
  int cols_used() const { return cols_used_; }
  const num::Crossbar& crossbar() const { return xbar(); }

  // ---- Blocks (chip/tile_blocks.h): the tile composes their costs ----
  const InputDriver& dac_block() const { return *dac_; }
  const ArrayRead& array_block() const { return *array_; }
  const AdcBank& adc_block() const { return *adc_; }
  const DigitalUnit& digital_block() const { return *digital_unit_; }
  int adc_count() const { return adc_->count(); }
  // Each block's area (um^2) and the static power it draws while the tile is active (W), with the
  // ledger component it is charged to; in the order dac, array, adc, digital, then the local
  // activation memory ("local_mem") when the tile has one (tile.local_memory_kib > 0).
  struct BlockFigure {
    const char* component;
    double area_um2;
    double p_static_w;
  };
  std::vector<BlockFigure> block_figures() const;
  // One MVM: per pass of the input encoding (bit-serial: one per input bit), DAC, then array,
  // then the ADC rounds.
  uint64_t t_mvm_ps(int cols_used) const;
  int input_passes() const { return dac_->encoding().passes(); }
  int read_phases() const { return array_->phases(); }
  // Array reads of one input vector: passes x phases (each a DAC drive, a read, conversions).
  int reads_per_vector() const { return input_passes() * read_phases(); }
  // Bytes of one partial sum a slice sends to its reduce tile: the ADC code, plus the input bits
  // a bit-serial shift-and-add adds to it, or the sign of a sign-split difference of counts.
  uint32_t psum_bytes() const {
    const int bits = cfg_.adc.bits + (input_passes() > 1 ? cfg_.dac.bits : 0) + (read_phases() > 1 ? 1 : 0);
    return static_cast<uint32_t>(bits + 7) / 8u;
  }
  uint64_t t_digital_ps(long element_ops) const {
    BlockOp op;
    op.element_ops = element_ops;
    return digital_unit_->cost(op).t_ps;
  }
  // DAC and ADC energy of one input vector: every pass of the encoding, every phase of the read
  // (the 4-phase read's two negative-input phases drive no row: inputs are unsigned codes).
  int driven_reads_per_vector() const { return input_passes() * (read_phases() == 4 ? 2 : read_phases()); }
  double e_dac_j(int rows_used) const { return driven_reads_per_vector() * e_dac_read_j(rows_used); }
  double e_adc_j(int cols_used) const { return reads_per_vector() * e_adc_read_j(cols_used); }
  double e_dac_read_j(int rows_used) const { return dac_->cost({rows_used, 0, 0, 0.0}).e_j; }
  double e_adc_read_j(int cols_used) const { return adc_->cost({0, cols_used, 0, 0.0}).e_j; }
  double e_digital_j(long element_ops, DigitalWork work = DigitalWork::requantize) const {
    BlockOp op;
    op.element_ops = element_ops;
    op.work = work;
    return digital_unit_->cost(op).e_j;
  }
  // Array energy of reads over a rows_used x cols_used block, from the kernel's statistics of
  // them (sum_v2g, sum_vg, reads = stats.vectors): the cells' V^2 G t plus the lines each read
  // charges.
  double e_array_j(const num::MvmStats& reads, int rows_used, int cols_used) const {
    BlockOp op{rows_used, cols_used, 0, reads.sum_v2g, reads.vectors};
    op.sum_vg = reads.sum_vg;
    op.enc = dac_->encoding();
    return array_->cost(op).e_j;
  }

  // Functional batch MVM: codes (batch x rows_used) -> ADC codes (batch x cols_used) of the block
  // at word line row0, column col0. Posts the DAC, array and ADC energy of the whole batch to the
  // ledger under (layer, phase) and returns them with the codes.
  struct MvmResult {
    Eigen::MatrixXf codes;
    double e_dac_j = 0, e_array_j = 0, e_adc_j = 0;  // of the whole batch
    double e_shift_add_j = 0;  // the digital unit combining the reads: bit-serial shift-and-add, phase subtraction
  };
  MvmResult mvm(const Eigen::MatrixXf& codes, int rows_used, int cols_used, float adc_full_scale,
                int layer, sim::Phase phase, int row0 = 0, int col0 = 0);

  uint32_t output_buffer_offset() const { return static_cast<uint32_t>(cfg_.input_buffer_bytes); }
  // ---- Local activation memory (tile.local_memory_kib; docs/chip-model.md) ----
  // Its place in the tile's address window (after the buffers) and size; 0 bytes: none. Accesses
  // through the window answer OK and move no bytes: the maps' values live in the shared SRAM
  // (written untimed there), the window is where their timed copies arrive.
  uint32_t local_memory_offset() const { return static_cast<uint32_t>(local_.size()); }
  uint64_t local_memory_bytes() const { return static_cast<uint64_t>(cfg_.local_memory_kib) * 1024; }
  uint64_t window_bytes() const { return local_.size() + local_memory_bytes(); }
  // Its port: latency sram.latency_ns plus ceil(bytes / local_memory_width_bytes) cycles of the
  // digital clock; energy per byte by the SRAM law (sim/sram_cost.h) for a memory of its size.
  sim::Timeline& local_memory_port() { return local_port_; }
  uint64_t t_local_memory_ps(uint64_t bytes) const;
  double e_local_memory_j(uint64_t bytes, bool write) const {
    return static_cast<double>(bytes) * 1e-12 * (write ? local_cost_.e_write_byte_pj : local_cost_.e_read_byte_pj);
  }
  // ---- Calibration and status (the tile's register window) ----
  // Column c's ADC trim in LSB, subtracted from its codes in the digital unit.
  int32_t trim(int col) const { return trims_[static_cast<size_t>(col)]; }
  void set_trim(int col, int32_t lsb);
  // One MVM with every input at zero over all array columns; latches the raw (untrimmed) codes
  // as test_result(c) and posts its DAC, array (the lines; no cell current) and ADC energy.
  // Returns its duration (t_mvm of all cols).
  uint64_t zero_input_test(sim::Phase phase);
  int32_t test_result(int col) const { return test_result_[static_cast<size_t>(col)]; }
  // The static offset drawn for column c (LSB), for tests; firmware cannot read it.
  float adc_offset_lsb(int col) const;
  bool clipped_flag() const { return clipped_flag_; }
  // Calibration read for drift compensation (the CAL register): one MVM with every used word line
  // at full scale; each used column's |current| is digitized at the verify resolution
  // (programming.verify_bits over rows_used * g_max * v_read) and the sum lands in cal_na().
  // Posts its DAC, array (cells and lines) and ADC energy; returns its duration (t_mvm of the used
  // columns).
  uint64_t calibration_read(sim::Phase phase);
  uint32_t cal_na() const { return cal_na_; }
  uint32_t cal_ref() const { return cal_ref_; }
  void set_cal_ref(uint32_t v) { cal_ref_ = v; }
  // Digital gain on every ADC code after the trims, unsigned Q16.16 (65536 = 1.0).
  uint32_t gain_q16() const { return gain_q16_; }
  void set_gain_q16(uint32_t g) { gain_q16_ = g; }
  const std::vector<int32_t>& trims() const { return trims_; }
  void clear_clipped_flag() { clipped_flag_ = false; }
  // The register window's state at reset: GAIN 1.0, no trims, CAL_REF and CAL_NA 0, no clipped
  // flag, no test result. The cells (weights) and counters stay.
  void reset_registers();

  sim::Timeline& analog() { return analog_; }
  sim::Timeline& digital() { return digital_; }
  uint64_t mvm_count() const { return mvm_count_; }
  uint64_t adc_clipped() const { return adc_clipped_; }
  // The counters and state above, as one snapshot (age at the current simulated time).
  TileStats stats() const {
    return {index_,          programmed_,        age_s(), mvm_count_, adc_clipped_, analog_.busy_ps(),
            digital_.busy_ps(), local_port_.busy_ps()};
  }

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);
  // Posts the energy of one full-scale read (a calibration or test read) and returns its time.
  uint64_t post_full_scale_read(sim::Phase phase, int driven, int read, num::MvmStats stats);

  int index_;
  config::TileConfig cfg_;
  int verify_bits_;
  sim::EnergyLedger& ledger_;
  int track_;
  std::unique_ptr<InputDriver> dac_;
  std::unique_ptr<ArrayRead> array_;
  std::unique_ptr<AdcBank> adc_;
  std::unique_ptr<DigitalUnit> digital_unit_;
  int c_dac_, c_array_, c_adc_, c_digital_;
  // The cells or the conditions changed: the crossbar is to hold the effective conductances at
  // the current conditions (age and temperature, captured now), from the next read on.
  void refresh();
  // The crossbar, its conductances brought up to date first (see refresh()).
  const num::Crossbar& xbar() const;
  num::Crossbar& xbar_mut() {
    xbar();
    return xbar_;
  }

  num::DevicePhysics phys_;
  num::CellState cells_;
  // With tile.array.ir_drop: the cells' conductances before the lines' loss (what a lone read sees).
  mutable Eigen::MatrixXf cell_g_pos_, cell_g_neg_;
  // Up to date unless stale_; then it is to get the effective conductances at stale_age_s_ and
  // stale_temp_c_ (the conditions refresh() captured). Mutable: a const read brings it up to date.
  mutable num::Crossbar xbar_;
  mutable bool stale_ = false;
  double stale_age_s_ = 0, stale_temp_c_ = 25.0;
  int rows_used_ = 0, cols_used_ = 0;
  double temp_c_;
  double extra_age_s_ = 0;        // age added by the environment since the last PROGRAM
  uint64_t programmed_at_ps_ = 0; // simulated time of the last PROGRAM
  uint32_t last_unconverged_ = 0;
  num::ProgramStore* program_store_ = nullptr;
  ProgramMemoCounts memo_counts_;
  uint32_t cal_na_ = 0, cal_ref_ = 0;
  uint32_t gain_q16_ = 65536;
  num::Rng prog_rng_;
  num::Rng read_rng_;
  bool programmed_ = false;
  LocalMemory local_;  // input buffer + output buffer
  sim::SramCost local_cost_;        // the local activation memory's cost law
  uint64_t local_latency_ps_ = 0;
  sim::Timeline analog_, digital_, local_port_;
  uint64_t mvm_count_ = 0;
  uint64_t adc_clipped_ = 0;
  Eigen::VectorXf adc_offset_;       // per column, LSB (empty: no offsets)
  std::vector<int32_t> trims_;       // per column, LSB
  std::vector<int32_t> test_result_; // per column, last zero-input test
  bool any_trim_ = false;
  bool clipped_flag_ = false;
};

// Declares to the ledger the static power of every tile's blocks (block_figures), summed per
// component: all of it while the tiles are `active`, none otherwise (in IDLE the tile's idle power,
// tile.p_static_idle_uw, covers what stays up; STANDBY gates the tiles). A component that draws
// nothing and did not before is left alone.
void set_block_static_power(sim::EnergyLedger& ledger, const std::vector<Tile*>& tiles, bool active,
                            uint64_t t_ps);

}  // namespace aimc::chip
