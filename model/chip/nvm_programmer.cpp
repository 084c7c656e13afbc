#include "chip/nvm_programmer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "aimc_image.h"
#include "aimc_regs.h"
#include "sim/accounting.h"

namespace aimc::chip {

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
      c_prog_(ledger.component("programming")),
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

uint32_t NvmProgrammer::count_verify_fails(const aimc_weights_hdr_t& hdr,
                                           const std::vector<int16_t>& levels) const {
  const Tile& t = *tiles_[cmd_.tile];
  const auto& d = cfg_.tile.device;
  const int max_level = (1 << d.bits_per_cell) - 1;
  const double g_min = d.g_min_ns * 1e-9, g_max = d.g_max_ns * 1e-9;
  const double tol = cmd_.tolerance_ppm * 1e-6 * g_max;
  auto target = [&](int level) { return g_min + level * (g_max - g_min) / max_level; };
  uint32_t fails = 0;
  for (uint32_t r = 0; r < hdr.rows; ++r)
    for (uint32_t c = 0; c < hdr.cols; ++c) {
      const int l = levels[static_cast<size_t>(r) * hdr.cols + c];
      const double tp = target(l > 0 ? l : 0), tn = target(l < 0 ? -l : 0);
      fails += std::fabs(t.conductance_s(r, c, false) - tp) > tol;
      fails += std::fabs(t.conductance_s(r, c, true) - tn) > tol;
    }
  return fails;
}

uint32_t NvmProgrammer::block_command(uint64_t& cells, uint64_t& dur_ps, double& e_j,
                                      uint32_t& err_addr) {
  aimc_weights_hdr_t hdr{};
  std::vector<int16_t> levels;
  if (!staged_block(hdr, levels)) {
    err_addr = AIMC_STAGING_BASE;
    return AIMC_ERR_BAD_WEIGHTS;
  }
  const bool program = cmd_.op == AIMC_PROG_PROGRAM;
  if (program)
    tiles_[cmd_.tile]->program(levels.data(), static_cast<int>(hdr.rows), static_cast<int>(hdr.cols));
  else
    verify_fails_ = count_verify_fails(hdr, levels);
  // Both touch every cell of the block, parallel_cells at a time.
  const auto& p = cfg_.programming;
  cells = 2ull * hdr.rows * hdr.cols;
  dur_ps = (cells + p.parallel_cells - 1) / p.parallel_cells *
           sim::ns_to_ps(program ? p.t_cell_ns : p.t_verify_ns);
  e_j = static_cast<double>(cells) * (program ? p.e_cell_pj : p.e_verify_cell_pj) * 1e-12;
  return AIMC_ERR_NONE;
}

void NvmProgrammer::run() {
  static const char* const kNames[] = {"", "program", "verify", "read cell", "erase"};
  for (;;) {
    sc_core::wait(start_event_);
    const uint64_t t0 = sim::to_ps(sc_core::sc_time_stamp());
    uint32_t error = AIMC_ERR_NONE, error_addr = 0;
    uint64_t cells = 0, dur = 0;
    double e = 0.0;
    const auto& p = cfg_.programming;
    if (cmd_.tile >= tiles_.size()) {
      error = AIMC_ERR_BAD_TILE;
      error_addr = cmd_.tile;
    } else if (cmd_.op == AIMC_PROG_PROGRAM || cmd_.op == AIMC_PROG_VERIFY) {
      error = block_command(cells, dur, e, error_addr);
    } else if (cmd_.op == AIMC_PROG_READ_CELL) {
      if (cmd_.row >= static_cast<uint32_t>(cfg_.tile.array.rows) ||
          cmd_.col >= static_cast<uint32_t>(cfg_.tile.array.cols) || cmd_.side > 1) {
        error = AIMC_ERR_BAD_VALUE;
        error_addr = cmd_.row >= static_cast<uint32_t>(cfg_.tile.array.rows) ? cmd_.row : cmd_.col;
      } else {
        const double g = tiles_[cmd_.tile]->conductance_s(static_cast<int>(cmd_.row),
                                                          static_cast<int>(cmd_.col), cmd_.side == 1);
        read_ps_ = static_cast<uint32_t>(std::llround(std::min(g * 1e12, 4294967295.0)));
        cells = 1;
        dur = sim::ns_to_ps(p.t_verify_ns);
        e = p.e_verify_cell_pj * 1e-12;
      }
    } else if (cmd_.op == AIMC_PROG_ERASE) {
      tiles_[cmd_.tile]->erase();
      cells = 2ull * cfg_.tile.array.rows * cfg_.tile.array.cols;
      dur = sim::ns_to_ps(p.t_erase_ns);
      e = p.e_erase_nj * 1e-9;
    } else {
      error = AIMC_ERR_BAD_VALUE;
      error_addr = cmd_.op;
    }
    if (dur > 0 || e > 0) {
      ledger_.post(c_prog_, sim::EnergyLedger::kNoLayer, ledger_.phase(), e, cells);
      if (trace_.enabled() && cmd_.op < 5)
        trace_.span(track_, std::string(kNames[cmd_.op]) + " tile" + std::to_string(cmd_.tile), t0,
                    dur, {{"cells", cells}, {"energy_nj", e * 1e9}, {"tile", cmd_.tile}});
      sc_core::wait(sim::ps_to_time(dur));
    }
    last_cells_ = static_cast<uint32_t>(cells);
    busy_ = false;
    if (listener_) listener_->engine_done(Engine::prog, error, error_addr);
  }
}

void NvmProgrammer::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  staging_.access(gp);
}

unsigned int NvmProgrammer::transport_dbg(tlm::tlm_generic_payload& gp) { return staging_.debug(gp); }

}  // namespace aimc::chip
