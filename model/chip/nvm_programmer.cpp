#include "chip/nvm_programmer.h"

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

bool NvmProgrammer::start(uint32_t tile, const sc_core::sc_time& delay) {
  if (busy_) return false;
  busy_ = true;
  tile_ = tile;
  start_event_.notify(delay);
  return true;
}

void NvmProgrammer::run() {
  for (;;) {
    sc_core::wait(start_event_);
    const uint64_t t0 = sim::to_ps(sc_core::sc_time_stamp());
    uint32_t error = AIMC_ERR_NONE, error_addr = 0;
    uint64_t cells = 0;
    aimc_weights_hdr_t hdr{};
    std::memcpy(&hdr, staging_.data(), sizeof hdr);
    const size_t payload = 2u * static_cast<size_t>(hdr.rows) * hdr.cols;
    if (tile_ >= tiles_.size()) {
      error = AIMC_ERR_BAD_TILE;
      error_addr = tile_;
    } else if (hdr.rows == 0 || hdr.cols == 0 ||
               hdr.rows > static_cast<uint32_t>(cfg_.tile.array.rows) ||
               hdr.cols > static_cast<uint32_t>(cfg_.tile.array.cols) ||
               hdr.bits_per_cell != static_cast<uint32_t>(cfg_.tile.device.bits_per_cell) ||
               sizeof hdr + payload > staging_.size()) {
      error = AIMC_ERR_BAD_WEIGHTS;
      error_addr = AIMC_STAGING_BASE;
    } else {
      std::vector<int16_t> levels(static_cast<size_t>(hdr.rows) * hdr.cols);
      std::memcpy(levels.data(), staging_.data() + sizeof hdr, payload);
      try {
        tiles_[tile_]->program(levels.data(), static_cast<int>(hdr.rows),
                               static_cast<int>(hdr.cols));
        cells = 2ull * hdr.rows * hdr.cols;
      } catch (const std::invalid_argument&) {
        error = AIMC_ERR_BAD_WEIGHTS;  // a level out of range: nothing was written
        error_addr = AIMC_STAGING_BASE;
      }
    }
    if (cells > 0) {
      const auto& p = cfg_.programming;
      const uint64_t rounds = (cells + p.parallel_cells - 1) / p.parallel_cells;
      const uint64_t dur = rounds * sim::ns_to_ps(p.t_cell_ns);
      const double e = static_cast<double>(cells) * p.e_cell_pj * 1e-12;
      ledger_.post(c_prog_, sim::EnergyLedger::kNoLayer, sim::Phase::deploy, e, cells);
      if (trace_.enabled()) {
        trace_.span(track_, "program tile" + std::to_string(tile_), t0, dur,
                    {{"cells", cells}, {"energy_nj", e * 1e9}, {"tile", tile_}});
      }
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
