#include "chip/nvm_programmer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "aimc_image.h"
#include "aimc_regs.h"
#include "numerics/device_model.h"
#include "sim/accounting.h"

namespace aimc::chip {

namespace {
uint32_t clamp_u32(long long v) { return static_cast<uint32_t>(std::clamp<long long>(v, 0, 0xFFFFFFFFLL)); }
}  // namespace

ProgrammingStats ProgrammingStats::since(const ProgrammingStats& earlier) const {
  ProgrammingStats d = *this;
  d.program_commands -= earlier.program_commands;
  d.cells -= earlier.cells;
  d.pulses -= earlier.pulses;
  d.verify_reads -= earlier.verify_reads;
  d.unconverged -= earlier.unconverged;
  d.erase_operations -= earlier.erase_operations;
  d.erased_cells -= earlier.erased_cells;
  d.busy_ps -= earlier.busy_ps;
  d.static_j -= earlier.static_j;
  d.host_seconds -= earlier.host_seconds;
  // The histograms only grow (more bins, larger counts).
  for (size_t k = 0; k < earlier.iteration_histogram.size() && k < d.iteration_histogram.size(); ++k)
    d.iteration_histogram[k] -= earlier.iteration_histogram[k];
  for (size_t b = 0; b < d.error_histogram.size() && b < earlier.error_histogram.size(); ++b)
    d.error_histogram[b] -= earlier.error_histogram[b];
  d.error_sum -= earlier.error_sum;
  d.error_sum_sq -= earlier.error_sum_sq;
  const size_t first = std::min(earlier.by_tile.size(), d.by_tile.size());
  d.by_tile.erase(d.by_tile.begin(), d.by_tile.begin() + static_cast<std::ptrdiff_t>(first));
  return d;
}

NvmProgrammer::NvmProgrammer(sc_core::sc_module_name name, const config::PlatformConfig& cfg,
                             std::vector<Tile*> tiles, sim::EnergyLedger& ledger,
                             sim::TraceSink& trace)
    : sc_module(name),
      tsock("tsock"),
      cfg_(cfg),
      tiles_(std::move(tiles)),
      ledger_(ledger),
      trace_(trace),
      track_(trace.track("programmer")),
      c_erase_(ledger.component("prog_erase")),
      c_pulse_(ledger.component("prog_pulse")),
      c_verify_(ledger.component("prog_verify")),
      staging_(sizeof(aimc_weights_hdr_t) +
               2u * static_cast<size_t>(cfg.tile.array.rows) * cfg.tile.array.cols) {
  tsock.register_b_transport(this, &NvmProgrammer::b_transport);
  tsock.register_transport_dbg(this, &NvmProgrammer::transport_dbg);
  SC_HAS_PROCESS(NvmProgrammer);
  SC_THREAD(run);
}

bool NvmProgrammer::start(const Command& cmd, const sc_core::sc_time& delay) {
  if (busy_) return false;
  busy_ = true;
  cmd_ = cmd;
  start_event_.notify(delay);
  return true;
}

int NvmProgrammer::sector_rows() const {
  return num::device_model(cfg_.tile.device.type).traits().erase_high
             ? cfg_.programming.erase_sector_rows
             : cfg_.tile.array.rows;
}

bool NvmProgrammer::staged_block(aimc_weights_hdr_t& hdr, std::vector<int16_t>& levels) const {
  std::memcpy(&hdr, staging_.data(), sizeof hdr);
  const size_t payload = 2u * static_cast<size_t>(hdr.rows) * hdr.cols;
  if (hdr.rows == 0 || hdr.cols == 0 || hdr.rows > static_cast<uint32_t>(cfg_.tile.array.rows) ||
      hdr.cols > static_cast<uint32_t>(cfg_.tile.array.cols) ||
      hdr.bits_per_cell != static_cast<uint32_t>(cfg_.tile.device.bits_per_cell) ||
      sizeof hdr + payload > staging_.size())
    return false;
  levels.resize(static_cast<size_t>(hdr.rows) * hdr.cols);
  std::memcpy(levels.data(), staging_.data() + sizeof hdr, payload);
  const int max_level = (1 << hdr.bits_per_cell) - 1;
  for (int16_t l : levels)
    if (l > max_level || l < -max_level) return false;
  return true;
}

void NvmProgrammer::do_erase(Cost& cost) {
  Tile& tile = *tiles_[cmd_.tile];
  const auto& p = cfg_.programming;
  const int rows = cfg_.tile.array.rows;
  const int sector = sector_rows();
  const long ops = (rows + sector - 1) / sector;
  cost.cells += static_cast<uint64_t>(tile.erase_rows(0, rows));
  cost.dur_ps += static_cast<uint64_t>(ops) * sim::ns_to_ps(p.t_erase_ns);
  cost.e_erase_j += ops * p.e_erase_nj * 1e-9;
  stats_.erase_operations += ops;
  stats_.erased_cells += static_cast<long>(cost.cells);
}

void NvmProgrammer::do_program(const aimc_weights_hdr_t& hdr, const std::vector<int16_t>& levels,
                                 Cost& cost) {
  Tile& tile = *tiles_[cmd_.tile];
  const auto& p = cfg_.programming;
  const int rows = static_cast<int>(hdr.rows), cols = static_cast<int>(hdr.cols);
  if (num::device_model(cfg_.tile.device.type).traits().erase_high) {
    // Pulses only lower the cell's conductance (flash): start from erased sectors.
    const int sector = sector_rows();
    const long ops = (rows + sector - 1) / sector;
    const long erased = tile.erase_rows(0, std::min<int>(static_cast<int>(ops) * sector,
                                                         cfg_.tile.array.rows));
    cost.dur_ps += static_cast<uint64_t>(ops) * sim::ns_to_ps(p.t_erase_ns);
    cost.e_erase_j += ops * p.e_erase_nj * 1e-9;
    stats_.erase_operations += ops;
    stats_.erased_cells += erased;
  }
  num::ProgramParams params;
  params.max_iterations = static_cast<int>(std::clamp<uint32_t>(cmd_.max_iterations, 1u, 65535u));
  params.tol_rel = cmd_.tol_rel_ppm * 1e-6;
  params.tol_gmax = cmd_.tol_gmax_ppm * 1e-6;
  params.verify_bits = p.verify_bits;
  params.record = static_cast<bool>(record_sink_);
  params.threads = cfg_.simulation.host_threads;
  const num::ProgramResult r = tile.program_verify(levels.data(), rows, cols, params);

  // Groups of parallel_cells in programming order: a group verifies once, then pulses and
  // verifies until its slowest cell is done.
  const size_t n = r.pulses_per_cell.size();
  const size_t group = static_cast<size_t>(p.parallel_cells);
  const uint64_t t_iter = sim::ns_to_ps(p.t_pulse_ns) + sim::ns_to_ps(p.t_verify_ns);
  uint64_t prog_ps = 0;
  int iter_max = 0;
  for (size_t g0 = 0; g0 < n; g0 += group) {
    const size_t g1 = std::min(n, g0 + group);
    const int m = *std::max_element(r.pulses_per_cell.begin() + static_cast<long>(g0),
                                    r.pulses_per_cell.begin() + static_cast<long>(g1));
    prog_ps += sim::ns_to_ps(p.t_verify_ns) + static_cast<uint64_t>(m) * t_iter;
    iter_max = std::max(iter_max, m);
  }
  cost.cells += r.cells;
  cost.dur_ps += prog_ps;
  cost.pulses += r.pulses;
  cost.e_pulse_j += r.pulses * p.e_pulse_pj * 1e-12;
  cost.e_verify_j += r.verify_reads * p.e_verify_cell_pj * 1e-12;
  if (trace_.enabled()) {
    // The command's iteration histogram ("pulses:cells ...") and error spread for its span.
    std::string hist;
    for (size_t k = 0; k < r.iteration_histogram.size(); ++k)
      if (r.iteration_histogram[k] > 0)
        hist += (hist.empty() ? "" : " ") + std::to_string(k) + ":" + std::to_string(r.iteration_histogram[k]);
    double sum = 0, sq = 0;
    for (float e : r.error) {
      sum += e;
      sq += static_cast<double>(e) * e;
    }
    const double n_cells = std::max<double>(1.0, static_cast<double>(r.error.size()));
    last_hist_text_ = hist;
    last_error_std_ = std::sqrt(std::max(0.0, sq / n_cells - (sum / n_cells) * (sum / n_cells)));
  }
  last_pulses_ = clamp_u32(r.pulses);
  last_unconverged_ = clamp_u32(r.unconverged);
  last_iter_max_ = static_cast<uint32_t>(iter_max);

  // Deploy statistics.
  stats_.program_commands += 1;
  stats_.cells += r.cells;
  stats_.pulses += r.pulses;
  stats_.verify_reads += r.verify_reads;
  stats_.unconverged += r.unconverged;
  if (stats_.iteration_histogram.size() < r.iteration_histogram.size())
    stats_.iteration_histogram.resize(r.iteration_histogram.size(), 0);
  for (size_t k = 0; k < r.iteration_histogram.size(); ++k)
    stats_.iteration_histogram[k] += r.iteration_histogram[k];
  for (float e : r.error) {
    const double x = e;
    stats_.error_sum += x;
    stats_.error_sum_sq += x * x;
    stats_.error_max_abs = std::max(stats_.error_max_abs, std::fabs(x));
    const double pos = (x + ProgrammingStats::kErrorRange) / ProgrammingStats::kErrorBinWidth;
    const int bin = pos < 0 ? 0
                    : pos >= ProgrammingStats::kErrorBins ? ProgrammingStats::kErrorBins + 1
                                                          : 1 + static_cast<int>(pos);
    ++stats_.error_histogram[static_cast<size_t>(bin)];
  }
  stats_.by_tile.push_back({static_cast<int>(cmd_.tile), r.cells, r.pulses, r.unconverged,
                            iter_max, cost.dur_ps});
  if (record_sink_) record_sink_(static_cast<int>(cmd_.tile), r);
}

void NvmProgrammer::do_verify(const aimc_weights_hdr_t& hdr, const std::vector<int16_t>& levels,
                                 Cost& cost) {
  const Tile& t = *tiles_[cmd_.tile];
  const num::DeviceSpec& spec = t.physics().cell;
  const double g_max_s = cfg_.tile.device.g_max_ns * 1e-9;
  const double tol_gmax = cmd_.tol_gmax_ppm * 1e-6, tol_rel = cmd_.tol_rel_ppm * 1e-6;
  uint32_t fails = 0;
  for (uint32_t r = 0; r < hdr.rows; ++r)
    for (uint32_t c = 0; c < hdr.cols; ++c) {
      const auto [tp, tn] = num::pair_targets(spec, levels[static_cast<size_t>(r) * hdr.cols + c]);
      for (int side = 0; side < 2; ++side) {
        const double target = side == 0 ? tp : tn;
        const double g = t.conductance_s(static_cast<int>(r), static_cast<int>(c), side == 1) / g_max_s;
        fails += std::fabs(g - target) > std::max(tol_rel * target, tol_gmax);
      }
    }
  verify_fails_ = fails;
  const auto& p = cfg_.programming;
  cost.cells = 2ull * hdr.rows * hdr.cols;
  cost.dur_ps = (cost.cells + p.parallel_cells - 1) / p.parallel_cells * sim::ns_to_ps(p.t_verify_ns);
  cost.e_verify_j = static_cast<double>(cost.cells) * p.e_verify_cell_pj * 1e-12;
  stats_.verify_reads += static_cast<long>(cost.cells);
}

void NvmProgrammer::account(const Cost& c, uint64_t t0_ps) {
  const int phase_layer = sim::EnergyLedger::kNoLayer;
  if (c.e_erase_j > 0) ledger_.post(c_erase_, phase_layer, ledger_.phase(), c.e_erase_j, c.cells);
  if (c.e_pulse_j > 0)
    ledger_.post(c_pulse_, phase_layer, ledger_.phase(), c.e_pulse_j, static_cast<uint64_t>(c.pulses));
  if (c.e_verify_j > 0) ledger_.post(c_verify_, phase_layer, ledger_.phase(), c.e_verify_j, c.cells);
  stats_.busy_ps += c.dur_ps;
  stats_.static_j += ledger_.static_power_total_w() * static_cast<double>(c.dur_ps) * 1e-12;
  if (trace_.enabled() && cmd_.op >= AIMC_PROG_PROGRAM && cmd_.op <= AIMC_PROG_ERASE) {
    static const char* const kNames[] = {"", "program", "verify", "read cell", "erase"};
    const double e_nj = (c.e_erase_j + c.e_pulse_j + c.e_verify_j) * 1e9;
    const std::string name = std::string(kNames[cmd_.op]) + " tile" + std::to_string(cmd_.tile);
    if (cmd_.op == AIMC_PROG_PROGRAM)
      trace_.span(track_, name, t0_ps, c.dur_ps,
                  {{"cells", c.cells}, {"pulses", c.pulses}, {"unconverged", last_unconverged_},
                   {"max_pulses", last_iter_max_}, {"energy_nj", e_nj}, {"tile", cmd_.tile},
                   {"pulses_histogram", last_hist_text_},
                   {"error_std_of_gmax", last_error_std_}});
    else
      trace_.span(track_, name, t0_ps, c.dur_ps,
                  {{"cells", c.cells}, {"energy_nj", e_nj}, {"tile", cmd_.tile}});
    if (cmd_.op == AIMC_PROG_PROGRAM)
      trace_.counter(track_, "unconverged_cells_total", t0_ps + c.dur_ps,
                     static_cast<double>(stats_.unconverged));
  }
}

void NvmProgrammer::run() {
  for (;;) {
    sc_core::wait(start_event_);
    const auto host_t0 = std::chrono::steady_clock::now();
    const uint64_t t0 = sim::to_ps(sc_core::sc_time_stamp());
    uint32_t error_addr = 0;
    Cost cost;
    if (cmd_.op == AIMC_PROG_PROGRAM) last_unconverged_ = last_pulses_ = last_iter_max_ = 0;
    std::string failure;
    const uint32_t error = run_guarded(
        "programming controller", [&] { return execute(cost, error_addr); }, AIMC_ERR_BAD_WEIGHTS, failure);
    if (!failure.empty()) error_addr = cmd_.tile;
    stats_.host_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - host_t0).count();
    if (cost.dur_ps > 0 || cost.e_erase_j + cost.e_pulse_j + cost.e_verify_j > 0) {
      account(cost, t0);
      sc_core::wait(sim::ps_to_time(cost.dur_ps));
    }
    last_cells_ = clamp_u32(static_cast<long long>(cost.cells));
    busy_ = false;
    if (listener_) listener_->engine_done(Engine::prog, error, error_addr);
  }
}

uint32_t NvmProgrammer::execute(Cost& cost, uint32_t& error_addr) {
  const auto& p = cfg_.programming;
  if (cmd_.tile >= tiles_.size()) {
    error_addr = cmd_.tile;
    return AIMC_ERR_BAD_TILE;
  }
  if (cmd_.op == AIMC_PROG_PROGRAM || cmd_.op == AIMC_PROG_VERIFY) {
    aimc_weights_hdr_t hdr{};
    std::vector<int16_t> levels;
    if (!staged_block(hdr, levels)) {
      error_addr = AIMC_STAGING_BASE;
      return AIMC_ERR_BAD_WEIGHTS;
    }
    if (cmd_.op == AIMC_PROG_PROGRAM) do_program(hdr, levels, cost);
    else do_verify(hdr, levels, cost);
    return AIMC_ERR_NONE;
  }
  if (cmd_.op == AIMC_PROG_READ_CELL) {
    if (cmd_.row >= static_cast<uint32_t>(cfg_.tile.array.rows) ||
        cmd_.col >= static_cast<uint32_t>(cfg_.tile.array.cols) || cmd_.side > 1) {
      error_addr = cmd_.row >= static_cast<uint32_t>(cfg_.tile.array.rows) ? cmd_.row : cmd_.col;
      return AIMC_ERR_BAD_VALUE;
    }
    const double g = tiles_[cmd_.tile]->conductance_s(static_cast<int>(cmd_.row), static_cast<int>(cmd_.col),
                                                      cmd_.side == 1);
    read_ps_ = static_cast<uint32_t>(std::llround(std::min(g * 1e12, 4294967295.0)));
    cost.cells = 1;
    cost.dur_ps = sim::ns_to_ps(p.t_verify_ns);
    cost.e_verify_j = p.e_verify_cell_pj * 1e-12;
    stats_.verify_reads += 1;
    return AIMC_ERR_NONE;
  }
  if (cmd_.op == AIMC_PROG_ERASE) {
    do_erase(cost);
    return AIMC_ERR_NONE;
  }
  error_addr = cmd_.op;
  return AIMC_ERR_BAD_VALUE;
}

void NvmProgrammer::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  staging_.access(gp);
}

unsigned int NvmProgrammer::transport_dbg(tlm::tlm_generic_payload& gp) { return staging_.debug(gp); }

}  // namespace aimc::chip
