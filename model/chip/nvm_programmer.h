// The NVM programming controller: program-and-verify, verify, cell reads and erase, behind the
// PROG_* registers. What the cells end up holding is the device model's business
// (numerics/device.h, through the tile); this module decides how long that takes and what it
// costs. Commands (PROG_CMD, on tile PROG_TILE):
//   PROGRAM  the firmware DMAs a weight block (aimc_weights_hdr_t + int16 levels, aimc_image.h)
//            into the staging buffer; the controller checks it against the tile, then
//            flash:    erases the sectors the block covers (ceil(rows / erase_sector_rows) sector
//                      erases, one after another: t_erase_ns and e_erase_nj each);
//            all:      program-and-verify of every cell of the block (both cells of each pair),
//                      parallel_cells at a time in programming order (device.h). A group takes
//                      t_verify_ns + max_pulses_in_group * (t_pulse_ns + t_verify_ns);
//                      energy = pulses * e_pulse_pj + verify_reads * e_verify_cell_pj.
//            Tolerance and iteration limit come from PROG_TOL_REL_PPM, PROG_TOLERANCE_PPM and
//            PROG_MAX_ITER. Cells left outside the tolerance are counted in PROG_UNCONVERGED
//            (and the tile's UNCONVERGED) and raise IRQ PROG_YIELD.
//   VERIFY   reads every cell of the staged block as a read sees it NOW (after drift, at today's
//            temperature) and counts those outside the tolerance: time = ceil(cells /
//            parallel_cells) * t_verify_ns, energy = cells * e_verify_cell_pj
//   READ_CELL  one cell's conductance into PROG_READ_PS: t_verify_ns, e_verify_cell_pj
//   ERASE    flash: every sector of the tile (sectors * t_erase_ns, sectors * e_erase_nj);
//            pcm, rram, ideal: one RESET of the tile (t_erase_ns, e_erase_nj)
// Energy goes to the ledger components prog_erase, prog_pulse and prog_verify in the current
// phase; every command is a span on the "programmer" track with its counts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "aimc_image.h"
#include "chip/engine.h"
#include "chip/local_memory.h"
#include "chip/tile.h"
#include "config/platform_config.h"
#include "numerics/device.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

namespace aimc::chip {

// Totals over every command since elaboration (the deploy report).
struct ProgrammingStats {
  long program_commands = 0;
  long cells = 0, pulses = 0, verify_reads = 0, unconverged = 0;
  long erase_operations = 0, erased_cells = 0;
  uint64_t busy_ps = 0;  // time the controller spent on commands (energy: the ledger's prog_*)
  // Static energy of the whole chip (every component with static power: tile_static, bus, sram,
  // host) while the controller ran commands: its static power at each command's start times the
  // command's duration. Exact, not an estimate: the power state cannot change while a command
  // runs (POWER_STATE refuses with ERR_BUSY while any engine is busy), and the ledger integrates
  // the same power over the same time into the phase's static energy.
  double static_j = 0;
  double host_seconds = 0;  // wall-clock time this simulator spent computing the commands (profiling)
  std::vector<long> iteration_histogram;  // [k]: cells that took k pulses
  // Residual programming error (programmed g - target, in fractions of g_max) of every cell.
  double error_sum = 0, error_sum_sq = 0, error_max_abs = 0;
  // Histogram of that error: kErrorBins bins of kErrorBinWidth from -kErrorRange, plus one
  // underflow (first) and one overflow (last) bin.
  static constexpr int kErrorBins = 40;
  static constexpr double kErrorRange = 0.05, kErrorBinWidth = 2 * kErrorRange / kErrorBins;
  std::vector<long> error_histogram = std::vector<long>(kErrorBins + 2, 0);
  struct PerTile {
    int tile;
    long cells, pulses, unconverged;
    int max_pulses;
    uint64_t time_ps;
  };
  std::vector<PerTile> by_tile;  // one entry per PROGRAM command

  // What happened after `earlier` (a snapshot of the same controller's totals): counters, sums
  // and histograms subtract, by_tile keeps the commands after earlier's. A maximum does not
  // subtract: error_max_abs stays this snapshot's (an upper bound of the maximum since).
  ProgrammingStats since(const ProgrammingStats& earlier) const;
};

class NvmProgrammer : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<NvmProgrammer> tsock;  // the staging buffer

  NvmProgrammer(sc_core::sc_module_name name, const config::PlatformConfig& cfg,
                std::vector<Tile*> tiles, sim::EnergyLedger& ledger, sim::TraceSink& trace);
  NvmProgrammer(const NvmProgrammer&) = delete;
  NvmProgrammer& operator=(const NvmProgrammer&) = delete;

  void set_listener(EngineListener* l) { listener_ = l; }
  bool busy() const { return busy_; }
  struct Command {
    uint32_t op = 0;  // AIMC_PROG_*
    uint32_t tile = 0;
    uint32_t row = 0, col = 0, side = 0;  // READ_CELL
    uint32_t tol_gmax_ppm = 0;            // PROGRAM, VERIFY: PROG_TOLERANCE_PPM
    uint32_t tol_rel_ppm = 10000;         // PROGRAM, VERIFY: PROG_TOL_REL_PPM
    uint32_t max_iterations = 20;         // PROGRAM: PROG_MAX_ITER
  };
  // Starts a command at sc_time_stamp() + delay. Returns false (and does nothing) if a command is
  // already running.
  bool start(const Command& cmd, const sc_core::sc_time& delay);
  uint32_t last_cells() const { return last_cells_; }
  uint32_t verify_fails() const { return verify_fails_; }
  uint32_t read_ps() const { return read_ps_; }
  uint32_t last_pulses() const { return last_pulses_; }
  uint32_t last_unconverged() const { return last_unconverged_; }
  uint32_t last_iter_max() const { return last_iter_max_; }
  // The results above back to their reset values (CTRL.FULL_RESET; not while busy).
  void clear_results() {
    last_cells_ = verify_fails_ = read_ps_ = last_pulses_ = last_unconverged_ = last_iter_max_ = 0;
  }
  uint64_t staging_bytes() const { return staging_.size(); }
  const ProgrammingStats& stats() const { return stats_; }

  // Called after every PROGRAM with the tile and the device model's per-cell result, which then
  // includes every pulse and verify read (the programming-sequence export). Off when empty.
  using RecordSink = std::function<void(int tile, const num::ProgramResult&)>;
  void set_record_sink(RecordSink sink) { record_sink_ = std::move(sink); }

 private:
  void run();
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);

  // One command's outcome, filled by the handlers below.
  struct Cost {
    uint64_t cells = 0, dur_ps = 0;
    double e_erase_j = 0, e_pulse_j = 0, e_verify_j = 0;
    long pulses = 0;
  };
  // PROGRAM and VERIFY of the staged block (already checked by staged_block()).
  void do_program(const aimc_weights_hdr_t& hdr, const std::vector<int16_t>& levels, Cost& cost);
  void do_verify(const aimc_weights_hdr_t& hdr, const std::vector<int16_t>& levels, Cost& cost);
  void do_erase(Cost& cost);
  // The command in cmd_: its AIMC_ERR_* code (error_addr: what it concerns) and cost.
  uint32_t execute(Cost& cost, uint32_t& error_addr);
  void account(const Cost& cost, uint64_t t0_ps);
  // Word lines per erase sector (flash), the array's rows otherwise.
  int sector_rows() const;
  // The staged block, checked against the tile (false: ERR_BAD_WEIGHTS).
  bool staged_block(aimc_weights_hdr_t& hdr, std::vector<int16_t>& levels) const;

  config::PlatformConfig cfg_;
  std::vector<Tile*> tiles_;
  sim::EnergyLedger& ledger_;
  sim::TraceSink& trace_;
  int track_;
  int c_erase_, c_pulse_, c_verify_;
  EngineListener* listener_ = nullptr;
  LocalMemory staging_;
  sc_core::sc_event start_event_;
  bool busy_ = false;
  Command cmd_;
  uint32_t last_cells_ = 0;
  uint32_t verify_fails_ = 0;
  uint32_t read_ps_ = 0;
  uint32_t last_pulses_ = 0, last_unconverged_ = 0, last_iter_max_ = 0;
  ProgrammingStats stats_;
  RecordSink record_sink_;
  std::string last_hist_text_;  // for the trace: "pulses:cells ..." of the last PROGRAM
  double last_error_std_ = 0;
};

}  // namespace aimc::chip
